// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {SolidMLMath} from "../SolidMLMath.sol";
import {TensorLib, ModelOutput} from "../opengradient/OGInference.sol";

/// One model tensor, as the OpenGradient entry needs it (written by `solidml init` into
/// `SolidMLModels.sol`, `solidml_forge::models_sol::tensors_abi`): the scale is the spec's
/// `m · 2^e`. An input with a per-axis input quantization (spec §IO quantization) lists one
/// scale and zero point per index of that axis in `axisMantissas`, `axisExps`,
/// `axisZeroPoints` (empty otherwise), `axisStride` being the axis's row-major stride: element
/// `k` is quantized with entry `(k / axisStride) % axisMantissas.length`.
struct SolidMLTensor {
    string name;
    uint32[] shape;
    bool isInt64;
    uint256 scaleMantissa;
    int256 scaleExp;
    int256 zeroPoint;
    uint256 axisStride;
    uint256[] axisMantissas;
    int256[] axisExps;
    int256[] axisZeroPoints;
}

/// `runModelInference`'s request as the route decodes it: `mode` as a plain integer, so that a
/// value beyond TEE gets the node's "unknown inference mode" (code 8).
struct SolidMLOgRequest {
    uint8 mode;
    string modelCID;
    SolidMLOgInput input;
}

/// `ModelInput`.
struct SolidMLOgInput {
    TensorLib.MultiDimensionalNumberTensor[] numbers;
    TensorLib.StringTensor[] strings;
}

/// The OpenGradient entry's arithmetic and messages, as the node computes them
/// (`precompiles/precompile/src/opengradient.rs`, docs/precompile.md §OpenGradient-compatible
/// entry): a `Number {value, decimals}` is `value · 10^-decimals`; int8 inputs are
/// `clamp(zp + round_half_even(x / scale), -128, 127)` computed exactly (256-bit with overflow
/// cases decided by bounds: a quotient beyond 1,000 saturates, a denominator beyond 2^256
/// rounds to 0, since |value · 10^38| < 2^254); int8 outputs are
/// `SolidMLMath.dequantizeFixed18` with 18 decimals, int64 values with 0.
library SolidMLOpenGradient {
    bytes4 internal constant SELECTOR = 0x7289e9c2;
    /// ABI bytes charged per output element (one `Number` is two words).
    uint256 internal constant OUTPUT_BYTES_PER_ELEMENT = 64;

    /// `x` of `Number` as `(|numerator|, denominator, negative)`, or an error message.
    function parts(TensorLib.Number memory n) internal pure returns (bool ok, uint256 num, uint256 den, bool neg, string memory err) {
        uint256 d = n.decimals < 0 ? uint256(-int256(n.decimals)) : uint256(int256(n.decimals));
        if (d > 38) return (false, 0, 0, false, string.concat("Number decimals ", signed(n.decimals), " out of range -38..=38"));
        uint256 p = 10 ** d;
        uint256 a = n.value < 0 ? uint256(-int256(n.value)) : uint256(int256(n.value));
        neg = n.value < 0;
        (num, den) = n.decimals >= 0 ? (a, p) : (a * p, 1); // a < 2^128, p < 2^127
        ok = true;
    }

    /// `num / den` rounded half to even (`den > 0`).
    function divRoundHalfEven(uint256 num, uint256 den) internal pure returns (uint256 q) {
        q = num / den;
        uint256 r = num % den;
        if (r > den - r || (r == den - r && q & 1 == 1)) q += 1;
    }

    /// The int8 code of `n` for a tensor with scale `m · 2^e` and zero point `zp`.
    function quantize(TensorLib.Number memory n, uint256 m, int256 e, int256 zp) internal pure returns (bool, int8, string memory) {
        (bool ok, uint256 num, uint256 den, bool neg, string memory err) = parts(n);
        if (!ok) return (false, 0, err);
        den *= m; // < 2^127 · 2^24
        uint256 q;
        if (e >= 0) {
            // den · 2^e ≥ 2^256 > 2 · num: the quotient rounds to 0
            if (e >= 256 || den > type(uint256).max >> uint256(e)) q = 0;
            else q = divRoundHalfEven(num, den << uint256(e));
        } else {
            uint256 sh = uint256(-e);
            // num · 2^sh ≥ 2^256 while den < 2^151: the quotient is far beyond 2^25
            if (sh >= 256 || num > type(uint256).max >> sh) q = 1 << 25;
            else q = divRoundHalfEven(num << sh, den);
        }
        // |zp| ≤ 2^24 (per-axis input parameters; 128 otherwise): a quotient of 2^25 or more
        // saturates whatever the zero point
        if (q > 1 << 25) q = 1 << 25;
        int256 v = zp + (neg ? -int256(q) : int256(q));
        return (true, int8(v < -128 ? -128 : (v > 127 ? int256(127) : v)), "");
    }

    /// `n` as an int64, or the node's message when it has a fractional part or does not fit.
    function integer(TensorLib.Number memory n) internal pure returns (bool, int64, string memory) {
        (bool ok, uint256 num, uint256 den, bool neg, string memory err) = parts(n);
        if (!ok) return (false, 0, err);
        uint256 q = num / den;
        if (num % den != 0 || q > uint256(uint64(type(int64).max))) {
            return (false, 0, string.concat("Number ", signed(n.value), "e-", signed(n.decimals), " is not an int64"));
        }
        return (true, neg ? -int64(uint64(q)) : int64(uint64(q)), "");
    }

    /// Map the request's number tensors onto the model inputs, packed as the precompile takes
    /// them (int8 one byte, int64 eight bytes big-endian), or the node's message (code 8).
    function packInputs(SolidMLOgInput memory input, SolidMLTensor[] memory ins)
        internal
        pure
        returns (bool, bytes memory packed, string memory err)
    {
        if (input.numbers.length != ins.length) {
            return (false, "", string.concat("the model takes ", decimal(ins.length), " input tensor(s), the request has ", decimal(input.numbers.length)));
        }
        for (uint256 i; i < ins.length; ++i) {
            SolidMLTensor memory t = ins[i];
            TensorLib.MultiDimensionalNumberTensor memory x;
            if (ins.length == 1) {
                x = input.numbers[0];
            } else {
                bool found;
                for (uint256 j; j < input.numbers.length && !found; ++j) {
                    if (keccak256(bytes(input.numbers[j].name)) == keccak256(bytes(t.name))) (x, found) = (input.numbers[j], true);
                }
                if (!found) return (false, "", string.concat("no input tensor named `", t.name, "`"));
            }
            uint256 want = count(t.shape);
            if (count(x.shape) != want || x.values.length != want) {
                return (
                    false,
                    "",
                    string.concat("input `", t.name, "` expects ", decimal(want), " values (shape ", shapeString(t.shape), "), got shape ", shapeString(x.shape), " with ", decimal(x.values.length), " values")
                );
            }
            for (uint256 k; k < want; ++k) {
                if (t.isInt64) {
                    (bool ok, int64 v, string memory e) = integer(x.values[k]);
                    if (!ok) return (false, "", e);
                    packed = abi.encodePacked(packed, v);
                } else {
                    (bool ok, int8 q, string memory e) = t.axisMantissas.length == 0
                        ? quantize(x.values[k], t.scaleMantissa, t.scaleExp, t.zeroPoint)
                        : quantizeAt(x.values[k], t, (k / t.axisStride) % t.axisMantissas.length);
                    if (!ok) return (false, "", e);
                    packed = abi.encodePacked(packed, q);
                }
            }
        }
        return (true, packed, "");
    }

    /// `quantize` with the per-axis parameters of index `c`.
    function quantizeAt(TensorLib.Number memory n, SolidMLTensor memory t, uint256 c) private pure returns (bool, int8, string memory) {
        return quantize(n, t.axisMantissas[c], t.axisExps[c], t.axisZeroPoints[c]);
    }

    /// The packed outputs as the entry's `ModelOutput`, ABI-encoded.
    function encodeOutputs(bytes memory packed, SolidMLTensor[] memory outs) internal pure returns (bytes memory) {
        TensorLib.MultiDimensionalNumberTensor[] memory numbers = new TensorLib.MultiDimensionalNumberTensor[](outs.length);
        uint256 at;
        for (uint256 i; i < outs.length; ++i) {
            SolidMLTensor memory t = outs[i];
            uint256 n = count(t.shape);
            TensorLib.Number[] memory values = new TensorLib.Number[](n);
            for (uint256 k; k < n; ++k) {
                if (t.isInt64) {
                    uint64 v;
                    for (uint256 b; b < 8; ++b) v = (v << 8) | uint64(uint8(packed[at + b]));
                    values[k] = TensorLib.Number(int64(v), 0);
                    at += 8;
                } else {
                    int8 q = int8(uint8(packed[at]));
                    values[k] = TensorLib.Number(int128(SolidMLMath.dequantizeFixed18(q, t.scaleMantissa, t.scaleExp, t.zeroPoint)), 18);
                    at += 1;
                }
            }
            numbers[i] = TensorLib.MultiDimensionalNumberTensor(t.name, values, t.shape);
        }
        return abi.encode(ModelOutput(numbers, new TensorLib.StringTensor[](0), new TensorLib.JsonScalar[](0), false));
    }

    /// Elements of all outputs (for the price).
    function outputElements(SolidMLTensor[] memory outs) internal pure returns (uint256 n) {
        for (uint256 i; i < outs.length; ++i) n += count(outs[i].shape);
    }

    /// `modelCID` as a modelId: `0x` (optional) and 64 hex digits of either case.
    function parseCid(string memory cid) internal pure returns (bool, bytes32 id) {
        bytes memory s = bytes(cid);
        uint256 from = s.length >= 2 && s[0] == "0" && s[1] == "x" ? 2 : 0;
        if (s.length - from != 64) return (false, 0);
        for (uint256 i; i < 64; ++i) {
            uint8 c = uint8(s[from + i]);
            uint256 v;
            if (c >= 48 && c <= 57) v = c - 48;
            else if (c >= 97 && c <= 102) v = c - 87;
            else if (c >= 65 && c <= 70) v = c - 55;
            else return (false, 0);
            id |= bytes32(v << (4 * (63 - i)));
        }
        return (true, id);
    }

    /// The product of `shape`, or `type(uint256).max` when it overflows (the node's checked
    /// product saturates the same way).
    function count(uint32[] memory shape) internal pure returns (uint256 n) {
        n = 1;
        for (uint256 i; i < shape.length; ++i) {
            if (shape[i] != 0 && n > type(uint64).max / shape[i]) return type(uint256).max;
            n *= shape[i];
        }
    }

    /// Rust's `{:?}` of a `Vec<u32>`: `[1, 64]`.
    function shapeString(uint32[] memory shape) internal pure returns (string memory s) {
        s = "[";
        for (uint256 i; i < shape.length; ++i) s = string.concat(s, i == 0 ? "" : ", ", decimal(shape[i]));
        s = string.concat(s, "]");
    }

    function decimal(uint256 v) internal pure returns (string memory) {
        if (v == 0) return "0";
        uint256 n;
        for (uint256 t = v; t != 0; t /= 10) ++n;
        bytes memory b = new bytes(n);
        for (; v != 0; v /= 10) b[--n] = bytes1(uint8(48 + v % 10));
        return string(b);
    }

    function signed(int256 v) internal pure returns (string memory) {
        return v < 0 ? string.concat("-", decimal(uint256(-v))) : decimal(uint256(v));
    }
}
