// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {SolidMLMath} from "../src/SolidMLMath.sol";

/// External wrappers, so that tests can observe reverts (custom errors) with try/catch.
contract MathHarness {
    function srdhm(int256 a, int256 b) external pure returns (int256) {
        return SolidMLMath.srdhm(a, b);
    }

    function rdbpot(int256 x, uint256 e) external pure returns (int256) {
        return SolidMLMath.rdbpot(x, e);
    }

    function requantize(int256 x, int256 m, int256 s) external pure returns (int256) {
        return SolidMLMath.requantize(x, m, s);
    }

    function divRoundHalfAway(int256 a, int256 b) external pure returns (int256) {
        return SolidMLMath.divRoundHalfAway(a, b);
    }

    function clampI8(int256 x, int256 lo, int256 hi) external pure returns (int8) {
        return SolidMLMath.clampI8(x, lo, hi);
    }

    function quantizeFixed18(int256 x, uint256 m, int256 e, int256 zp) external pure returns (int8) {
        return SolidMLMath.quantizeFixed18(x, m, e, zp);
    }

    function dequantizeFixed18(int8 q, uint256 m, int256 e, int256 zp) external pure returns (int256) {
        return SolidMLMath.dequantizeFixed18(q, m, e, zp);
    }
}

/// Primitive tests: the cases of arith.rs's and io.rs's unit tests (and the spec's examples),
/// edge cases (ties, INT_MIN / INT_MAX, exponent 31, saturation, range errors), and
/// property tests against independently written formulas. Expected IO values were derived
/// with exact rational arithmetic (Python `fractions`) from the spec formulas, not from this
/// library; f32 scales are given as io.rs `scale_parts` (m, e):
///   1.0 = (8388608, -23)   0.1 = (13421773, -27)   0.05 = (13421773, -28)   0.25 = (8388608, -25)
///   0.5 = (8388608, -24)   0.0625 = (8388608, -27) 0.003921569 = (8421505, -31)
///   1.7 = (14260634, -23)  13.0 = (13631488, -20)  1e-6 = (8796093, -43)
///   f32::MAX = (16777215, 104)   smallest subnormal = (1, -149)
contract MathTest {
    int256 constant MIN = -2147483648;
    int256 constant MAX = 2147483647;

    MathHarness h;

    function setUp() public {
        h = new MathHarness();
    }

    function _eq(int256 got, int256 want, string memory what) internal pure {
        require(got == want, string.concat(what, ": got ", _s(got), ", want ", _s(want)));
    }

    function _s(int256 v) internal pure returns (string memory) {
        bool neg = v < 0;
        uint256 u = neg ? uint256(-(v + 1)) + 1 : uint256(v);
        bytes memory b = new bytes(78);
        uint256 i = 78;
        do {
            b[--i] = bytes1(uint8(48 + u % 10));
            u /= 10;
        } while (u != 0);
        if (neg) b[--i] = "-";
        bytes memory r = new bytes(78 - i);
        for (uint256 j; j < r.length; ++j) r[j] = b[i + j];
        return string(r);
    }

    /// The revert data of a failed call starts with `selector`.
    function _revertsWith(bytes memory err, bytes4 selector, string memory what) internal pure {
        require(err.length >= 4 && bytes4(err) == selector, string.concat(what, ": wrong or no revert"));
    }

    // ---------------------------------------------------------------- independent references

    /// gemmlowp's definition as written (truncating division with a sign-dependent nudge).
    function _srdhmRef(int256 a, int256 b) internal pure returns (int256) {
        if (a == MIN && b == MIN) return MAX;
        int256 ab = a * b;
        int256 nudge = ab >= 0 ? int256(1 << 30) : 1 - int256(1 << 30);
        return (ab + nudge) / int256(1 << 31); // Solidity's signed `/` truncates toward zero
    }

    /// Closed form: rdbpot(x, 0) = x; else sign(x) · floor((|x| + 2^(e−1)) / 2^e).
    function _rdbpotRef(int256 x, uint256 e) internal pure returns (int256) {
        if (e == 0) return x;
        int256 ax = x < 0 ? -x : x;
        int256 r = (ax + int256(1 << (e - 1))) / int256(1 << e);
        return x < 0 ? -r : r;
    }

    function _requantizeRef(int256 x, int256 m, int256 s) internal pure returns (int256) {
        int256 y = s > 0 ? x * int256(2 ** uint256(s)) : x;
        if (y > MAX) y = MAX;
        if (y < MIN) y = MIN;
        return _rdbpotRef(_srdhmRef(y, m), s < 0 ? uint256(-s) : 0);
    }

    // ---------------------------------------------------------------- srdhm

    function test_srdhm_cases() public pure {
        _eq(SolidMLMath.srdhm(MIN, MIN), MAX, "MIN*MIN saturates");
        _eq(SolidMLMath.srdhm(MAX, MAX), 2147483646, "MAX*MAX");
        _eq(SolidMLMath.srdhm(MIN, MAX), -2147483647, "MIN*MAX");
        _eq(SolidMLMath.srdhm(MIN, 1 << 30), -(1 << 30), "MIN*2^30");
        // ties (a·b/2^31 = ±k.5) round toward +inf
        _eq(SolidMLMath.srdhm(1, 1 << 30), 1, "0.5 -> 1");
        _eq(SolidMLMath.srdhm(-1, 1 << 30), 0, "-0.5 -> 0");
        _eq(SolidMLMath.srdhm(3, 1 << 30), 2, "1.5 -> 2");
        _eq(SolidMLMath.srdhm(-3, 1 << 30), -1, "-1.5 -> -1");
        _eq(SolidMLMath.srdhm(-386, 1 << 30), -193, "dense.rs example");
        _eq(SolidMLMath.srdhm(0, MIN), 0, "0");
    }

    /// arith.rs `srdhm_matches_floor_form_away_from_saturation`: all pairs of its edge values.
    function test_srdhm_edge_grid() public pure {
        int256[10] memory v = [MIN, MIN + 1, -(1 << 30), -12345, -1, 0, 1, 7, 1 << 30, MAX];
        for (uint256 i; i < 10; ++i) {
            for (uint256 j; j < 10; ++j) {
                _eq(SolidMLMath.srdhm(v[i], v[j]), _srdhmRef(v[i], v[j]), "srdhm grid");
            }
        }
    }

    // ---------------------------------------------------------------- rdbpot

    function test_rdbpot_cases() public pure {
        _eq(SolidMLMath.rdbpot(5, 1), 3, "5/2");
        _eq(SolidMLMath.rdbpot(-5, 1), -3, "-5/2");
        _eq(SolidMLMath.rdbpot(4, 1), 2, "4/2");
        _eq(SolidMLMath.rdbpot(-6, 2), -2, "-1.5 -> -2");
        _eq(SolidMLMath.rdbpot(6, 2), 2, "1.5 -> 2");
        _eq(SolidMLMath.rdbpot(-5, 2), -1, "-1.25 -> -1");
        _eq(SolidMLMath.rdbpot(MIN, 31), -1, "MIN >> 31");
        _eq(SolidMLMath.rdbpot(MAX, 31), 1, "MAX >> 31");
        _eq(SolidMLMath.rdbpot(MAX, 0), MAX, "MAX >> 0");
        _eq(SolidMLMath.rdbpot(MIN, 0), MIN, "MIN >> 0");
        _eq(SolidMLMath.rdbpot(1 << 30, 31), 1, "0.5 -> 1");
        _eq(SolidMLMath.rdbpot(-(1 << 30), 31), -1, "-0.5 -> -1");
        _eq(SolidMLMath.rdbpot((1 << 30) - 1, 31), 0, "0.49 -> 0");
        _eq(SolidMLMath.rdbpot(-(1 << 30) + 1, 31), 0, "-0.49 -> 0");
    }

    /// arith.rs `rdbpot_rounds_half_away_from_zero` grid (x in [-1000, 1000), e < 12), strided.
    function test_rdbpot_grid() public pure {
        for (int256 x = -1000; x < 1000; x += 7) {
            for (uint256 e; e < 12; ++e) {
                _eq(SolidMLMath.rdbpot(x, e), _rdbpotRef(x, e), "rdbpot grid");
            }
        }
        for (uint256 e; e <= 31; ++e) {
            _eq(SolidMLMath.rdbpot(MIN, e), _rdbpotRef(MIN, e), "rdbpot MIN");
            _eq(SolidMLMath.rdbpot(MAX, e), _rdbpotRef(MAX, e), "rdbpot MAX");
        }
    }

    // ---------------------------------------------------------------- requantize

    function test_requantize_cases() public pure {
        // 4.0 = {2^30, 3}: the left shift saturates, then times one half (arith.rs, spec)
        _eq(SolidMLMath.requantize(MAX, 1 << 30, 3), 1 << 30, "4.0 * MAX saturates");
        _eq(SolidMLMath.requantize(MIN, 1 << 30, 3), -(1 << 30), "4.0 * MIN saturates");
        _eq(SolidMLMath.requantize(1000, 1 << 30, 3), 4000, "4.0 * 1000");
        // 1.0 = {2^30, 1}, 0.5 = {2^30, 0}, 0.25 = {2^30, -1}
        _eq(SolidMLMath.requantize(7, 1 << 30, 1), 7, "1.0");
        _eq(SolidMLMath.requantize(MAX, 1 << 30, 1), 1 << 30, "1.0 * MAX: 2*MAX saturates to MAX, then times 1/2");
        _eq(SolidMLMath.requantize(-7, 1 << 30, 0), -3, "0.5 * -7 (srdhm tie up)");
        _eq(SolidMLMath.requantize(7, 1 << 30, 0), 4, "0.5 * 7");
        _eq(SolidMLMath.requantize(-386, 1 << 30, -1), -97, "dense.rs: 0.25 * -386");
        _eq(SolidMLMath.requantize(871, 1 << 30, -1), 218, "dense.rs: 0.25 * 871");
        // shift -31: the smallest multiplier
        // (srdhm(MAX, MAX) = 2^31 - 2, then / 2^31 rounds to 1)
        _eq(SolidMLMath.requantize(MAX, MAX, -31), 1, "shift -31");
        _eq(SolidMLMath.requantize(MIN, MAX, -31), -1, "shift -31 (MIN)");
        _eq(SolidMLMath.requantize(MIN, MIN, -31), 1, "MIN*MIN saturates, shift -31");
        _eq(SolidMLMath.requantize(1 << 30, 1 << 30, -31), 0, "2^29 / 2^31 = 0.25 -> 0");
        _eq(SolidMLMath.requantize(1 << 30, 1 << 30, -30), 1, "2^29 / 2^30 = 0.5 -> 1 (half away)");
        _eq(SolidMLMath.requantize(-(1 << 30), 1 << 30, -30), -1, "-0.5 -> -1 (half away)");
        _eq(SolidMLMath.requantize(MIN, MIN, 0), MAX, "MIN*MIN saturates");
        _eq(SolidMLMath.requantize(12345, 0, 30), 0, "zero multiplier");
        _eq(SolidMLMath.requantize(1, MAX, 30), 1 << 30, "largest left shift");
        _eq(SolidMLMath.requantize(-1, MAX, 30), -(1 << 30) + 1, "largest left shift (neg): floor(-2^30 + 1)");
    }

    function test_requantize_rejects_bad_input() public view {
        try h.requantize(1, 1 << 30, 31) {
            revert("shift 31 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.ShiftOutOfRange.selector, "shift 31");
        }
        try h.requantize(1, 1 << 30, -32) {
            revert("shift -32 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.ShiftOutOfRange.selector, "shift -32");
        }
        try h.requantize(MAX + 1, 1 << 30, 0) {
            revert("x = 2^31 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.NotInt32.selector, "x = 2^31");
        }
        try h.requantize(0, MIN - 1, 0) {
            revert("multiplier below i32 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.NotInt32.selector, "multiplier");
        }
        try h.rdbpot(1, 32) {
            revert("exponent 32 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.ExponentOutOfRange.selector, "exponent 32");
        }
        try h.srdhm(MIN - 1, 1) {
            revert("srdhm non-i32 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.NotInt32.selector, "srdhm");
        }
    }

    /// Property: requantize equals the independent reference on 2000 pseudo-random inputs
    /// (keccak stream; x biased towards the extremes and small values, multipliers valid, zero
    /// or any i32, every shift in [-31, 30]).
    function test_requantize_matches_reference_random() public pure {
        bytes32 seed = keccak256("solidml requantize");
        for (uint256 i; i < 2000; ++i) {
            seed = keccak256(abi.encode(seed));
            uint256 r = uint256(seed);
            int256 x;
            uint256 kind = r & 7;
            if (kind == 0) x = MIN + int256((r >> 8) & 0xff);
            else if (kind == 1) x = MAX - int256((r >> 8) & 0xff);
            else if (kind == 2) x = int256((r >> 8) & 0x3ff) - 512;
            else x = int256(int32(uint32(r >> 8)));
            int256 m;
            uint256 mk = (r >> 40) & 15;
            if (mk == 0) m = 0;
            else if (mk == 1) m = int256(int32(uint32(r >> 48))); // any i32, incl. negative
            else if (mk == 2) m = MAX;
            else m = int256(1 << 30) + int256((r >> 48) % (1 << 30)); // valid Q31 mantissa
            int256 s = int256((r >> 96) % 62) - 31;
            _eq(SolidMLMath.requantize(x, m, s), _requantizeRef(x, m, s), "requantize vs reference");
        }
    }

    function testFuzz_requantize(int32 x, int32 m, uint8 s8) public pure {
        int256 s = int256(uint256(s8) % 62) - 31;
        _eq(SolidMLMath.requantize(x, m, s), _requantizeRef(x, m, s), "fuzz requantize");
    }

    function testFuzz_srdhm(int32 a, int32 b) public pure {
        _eq(SolidMLMath.srdhm(a, b), _srdhmRef(a, b), "fuzz srdhm");
    }

    // ---------------------------------------------------------------- divRoundHalfAway / clamp

    function test_div_round_half_away() public view {
        _eq(SolidMLMath.divRoundHalfAway(5, 2), 3, "5/2");
        _eq(SolidMLMath.divRoundHalfAway(-5, 2), -3, "-5/2");
        _eq(SolidMLMath.divRoundHalfAway(7, 3), 2, "7/3");
        _eq(SolidMLMath.divRoundHalfAway(-7, 3), -2, "-7/3");
        _eq(SolidMLMath.divRoundHalfAway(8, 3), 3, "8/3");
        _eq(SolidMLMath.divRoundHalfAway(-8, 3), -3, "-8/3");
        _eq(SolidMLMath.divRoundHalfAway(0, 9), 0, "0/9");
        _eq(SolidMLMath.divRoundHalfAway(type(int256).max, 2), int256(1) << 254, "int256 max / 2");
        _eq(SolidMLMath.divRoundHalfAway(type(int256).min, 2), -(int256(1) << 254), "int256 min / 2");
        _eq(SolidMLMath.divRoundHalfAway(type(int256).min, 1), type(int256).min, "int256 min / 1");
        _eq(SolidMLMath.divRoundHalfAway(type(int256).max, type(int256).max), 1, "max / max");
        _eq(SolidMLMath.divRoundHalfAway(type(int64).min, 3), -3074457345618258603, "i64 min / 3");
        for (int256 a = -60; a <= 60; ++a) {
            for (int256 b = 1; b <= 12; ++b) {
                int256 aa = a < 0 ? -a : a;
                int256 want = (2 * aa + b) / (2 * b); // sign(a) · floor((2|a| + b) / 2b)
                _eq(SolidMLMath.divRoundHalfAway(a, b), a < 0 ? -want : want, "div grid");
            }
        }
        try h.divRoundHalfAway(1, 0) {
            revert("b = 0 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.NonPositiveDivisor.selector, "b = 0");
        }
        try h.divRoundHalfAway(1, -3) {
            revert("b < 0 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.NonPositiveDivisor.selector, "b < 0");
        }
    }

    function test_clamp_i8() public view {
        _eq(SolidMLMath.clampI8(200, -128, 127), 127, "200");
        _eq(SolidMLMath.clampI8(-200, -128, 127), -128, "-200");
        _eq(SolidMLMath.clampI8(5, -3, 4), 4, "5 in [-3, 4]");
        _eq(SolidMLMath.clampI8(-5, -3, 4), -3, "-5 in [-3, 4]");
        _eq(SolidMLMath.clampI8(0, -3, 4), 0, "0 in [-3, 4]");
        _eq(SolidMLMath.clampI8(type(int256).min), -128, "int256 min");
        _eq(SolidMLMath.clampI8(type(int256).max), 127, "int256 max");
        _eq(SolidMLMath.sat32(int256(1) << 40), MAX, "sat32");
        _eq(SolidMLMath.sat32(-(int256(1) << 40)), MIN, "sat32 neg");
        try h.clampI8(0, 5, 4) {
            revert("lo > hi accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.BadClampRange.selector, "lo > hi");
        }
        try h.clampI8(0, -129, 4) {
            revert("lo < -128 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.BadClampRange.selector, "lo < -128");
        }
        try h.clampI8(0, 0, 128) {
            revert("hi > 127 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.BadClampRange.selector, "hi > 127");
        }
    }

    // ---------------------------------------------------------------- IO: quantizeFixed18

    function _q(int256 x, uint256 m, int256 e, int256 zp, int256 want) internal pure {
        _eq(SolidMLMath.quantizeFixed18(x, m, e, zp), want, "quantizeFixed18");
    }

    /// io.rs `quantize_ties_to_even` (in fixed point), `fixed18_agrees_with_f32_path` (its grid
    /// of dyadic x, scales and zero points) and `f32_to_fixed18_is_exact_rounding`.
    function test_quantize_fixed18_cases() public pure {
        _q(500000000000000000, 8388608, -23, 0, 0);
        _q(1500000000000000000, 8388608, -23, 0, 2);
        _q(-500000000000000000, 8388608, -23, 0, 0);
        _q(-1500000000000000000, 8388608, -23, 0, -2);
        _q(2500000000000000000, 8388608, -23, 0, 2);
        _q(1000000000000000000000, 8388608, -23, 0, 127);
        _q(-1000000000000000000000, 8388608, -23, 3, -128);
        _q(300000000000000000, 13421773, -27, -5, -2);
        _q(-3750000000000000000, 13421773, -27, -128, -128);
        _q(-3750000000000000000, 13421773, -27, -3, -40);
        _q(-3750000000000000000, 13421773, -27, 0, -37);
        _q(-3750000000000000000, 13421773, -27, 17, -20);
        _q(-1000000000000000000, 13421773, -27, -128, -128);
        _q(-1000000000000000000, 13421773, -27, -3, -13);
        _q(-1000000000000000000, 13421773, -27, 0, -10);
        _q(-1000000000000000000, 13421773, -27, 17, 7);
        _q(0, 13421773, -27, -128, -128);
        _q(0, 13421773, -27, -3, -3);
        _q(0, 13421773, -27, 0, 0);
        _q(0, 13421773, -27, 17, 17);
        _q(1000000000000000000, 13421773, -27, -128, -118);
        _q(1000000000000000000, 13421773, -27, -3, 7);
        _q(1000000000000000000, 13421773, -27, 0, 10);
        _q(1000000000000000000, 13421773, -27, 17, 27);
        _q(2500000000000000000, 13421773, -27, -128, -103);
        _q(2500000000000000000, 13421773, -27, -3, 22);
        _q(2500000000000000000, 13421773, -27, 0, 25);
        _q(2500000000000000000, 13421773, -27, 17, 42);
        _q(7125000000000000000, 13421773, -27, -128, -57);
        _q(7125000000000000000, 13421773, -27, -3, 68);
        _q(7125000000000000000, 13421773, -27, 0, 71);
        _q(7125000000000000000, 13421773, -27, 17, 88);
        _q(100000000000000000000, 13421773, -27, -128, 127);
        _q(100000000000000000000, 13421773, -27, -3, 127);
        _q(100000000000000000000, 13421773, -27, 0, 127);
        _q(100000000000000000000, 13421773, -27, 17, 127);
        _q(-3750000000000000000, 8388608, -27, -128, -128);
        _q(-3750000000000000000, 8388608, -27, -3, -63);
        _q(-3750000000000000000, 8388608, -27, 0, -60);
        _q(-3750000000000000000, 8388608, -27, 17, -43);
        _q(-1000000000000000000, 8388608, -27, -128, -128);
        _q(-1000000000000000000, 8388608, -27, -3, -19);
        _q(-1000000000000000000, 8388608, -27, 0, -16);
        _q(-1000000000000000000, 8388608, -27, 17, 1);
        _q(0, 8388608, -27, -128, -128);
        _q(0, 8388608, -27, -3, -3);
        _q(0, 8388608, -27, 0, 0);
        _q(0, 8388608, -27, 17, 17);
        _q(1000000000000000000, 8388608, -27, -128, -112);
        _q(1000000000000000000, 8388608, -27, -3, 13);
        _q(1000000000000000000, 8388608, -27, 0, 16);
        _q(1000000000000000000, 8388608, -27, 17, 33);
        _q(2500000000000000000, 8388608, -27, -128, -88);
        _q(2500000000000000000, 8388608, -27, -3, 37);
        _q(2500000000000000000, 8388608, -27, 0, 40);
        _q(2500000000000000000, 8388608, -27, 17, 57);
        _q(7125000000000000000, 8388608, -27, -128, -14);
        _q(7125000000000000000, 8388608, -27, -3, 111);
        _q(7125000000000000000, 8388608, -27, 0, 114);
        _q(7125000000000000000, 8388608, -27, 17, 127);
        _q(100000000000000000000, 8388608, -27, -128, 127);
        _q(100000000000000000000, 8388608, -27, -3, 127);
        _q(100000000000000000000, 8388608, -27, 0, 127);
        _q(100000000000000000000, 8388608, -27, 17, 127);
        _q(-3750000000000000000, 8421505, -31, -128, -128);
        _q(-3750000000000000000, 8421505, -31, -3, -128);
        _q(-3750000000000000000, 8421505, -31, 0, -128);
        _q(-3750000000000000000, 8421505, -31, 17, -128);
        _q(-1000000000000000000, 8421505, -31, -128, -128);
        _q(-1000000000000000000, 8421505, -31, -3, -128);
        _q(-1000000000000000000, 8421505, -31, 0, -128);
        _q(-1000000000000000000, 8421505, -31, 17, -128);
        _q(0, 8421505, -31, -128, -128);
        _q(0, 8421505, -31, -3, -3);
        _q(0, 8421505, -31, 0, 0);
        _q(0, 8421505, -31, 17, 17);
        _q(1000000000000000000, 8421505, -31, -128, 127);
        _q(1000000000000000000, 8421505, -31, -3, 127);
        _q(1000000000000000000, 8421505, -31, 0, 127);
        _q(1000000000000000000, 8421505, -31, 17, 127);
        _q(2500000000000000000, 8421505, -31, -128, 127);
        _q(2500000000000000000, 8421505, -31, -3, 127);
        _q(2500000000000000000, 8421505, -31, 0, 127);
        _q(2500000000000000000, 8421505, -31, 17, 127);
        _q(7125000000000000000, 8421505, -31, -128, 127);
        _q(7125000000000000000, 8421505, -31, -3, 127);
        _q(7125000000000000000, 8421505, -31, 0, 127);
        _q(7125000000000000000, 8421505, -31, 17, 127);
        _q(100000000000000000000, 8421505, -31, -128, 127);
        _q(100000000000000000000, 8421505, -31, -3, 127);
        _q(100000000000000000000, 8421505, -31, 0, 127);
        _q(100000000000000000000, 8421505, -31, 17, 127);
        _q(-3750000000000000000, 14260634, -23, -128, -128);
        _q(-3750000000000000000, 14260634, -23, -3, -5);
        _q(-3750000000000000000, 14260634, -23, 0, -2);
        _q(-3750000000000000000, 14260634, -23, 17, 15);
        _q(-1000000000000000000, 14260634, -23, -128, -128);
        _q(-1000000000000000000, 14260634, -23, -3, -4);
        _q(-1000000000000000000, 14260634, -23, 0, -1);
        _q(-1000000000000000000, 14260634, -23, 17, 16);
        _q(0, 14260634, -23, -128, -128);
        _q(0, 14260634, -23, -3, -3);
        _q(0, 14260634, -23, 0, 0);
        _q(0, 14260634, -23, 17, 17);
        _q(1000000000000000000, 14260634, -23, -128, -127);
        _q(1000000000000000000, 14260634, -23, -3, -2);
        _q(1000000000000000000, 14260634, -23, 0, 1);
        _q(1000000000000000000, 14260634, -23, 17, 18);
        _q(2500000000000000000, 14260634, -23, -128, -127);
        _q(2500000000000000000, 14260634, -23, -3, -2);
        _q(2500000000000000000, 14260634, -23, 0, 1);
        _q(2500000000000000000, 14260634, -23, 17, 18);
        _q(7125000000000000000, 14260634, -23, -128, -124);
        _q(7125000000000000000, 14260634, -23, -3, 1);
        _q(7125000000000000000, 14260634, -23, 0, 4);
        _q(7125000000000000000, 14260634, -23, 17, 21);
        _q(100000000000000000000, 14260634, -23, -128, -69);
        _q(100000000000000000000, 14260634, -23, -3, 56);
        _q(100000000000000000000, 14260634, -23, 0, 59);
        _q(100000000000000000000, 14260634, -23, 17, 76);
        _q(-3750000000000000000, 13631488, -20, -128, -128);
        _q(-3750000000000000000, 13631488, -20, -3, -3);
        _q(-3750000000000000000, 13631488, -20, 0, 0);
        _q(-3750000000000000000, 13631488, -20, 17, 17);
        _q(-1000000000000000000, 13631488, -20, -128, -128);
        _q(-1000000000000000000, 13631488, -20, -3, -3);
        _q(-1000000000000000000, 13631488, -20, 0, 0);
        _q(-1000000000000000000, 13631488, -20, 17, 17);
        _q(0, 13631488, -20, -128, -128);
        _q(0, 13631488, -20, -3, -3);
        _q(0, 13631488, -20, 0, 0);
        _q(0, 13631488, -20, 17, 17);
        _q(1000000000000000000, 13631488, -20, -128, -128);
        _q(1000000000000000000, 13631488, -20, -3, -3);
        _q(1000000000000000000, 13631488, -20, 0, 0);
        _q(1000000000000000000, 13631488, -20, 17, 17);
        _q(2500000000000000000, 13631488, -20, -128, -128);
        _q(2500000000000000000, 13631488, -20, -3, -3);
        _q(2500000000000000000, 13631488, -20, 0, 0);
        _q(2500000000000000000, 13631488, -20, 17, 17);
        _q(7125000000000000000, 13631488, -20, -128, -127);
        _q(7125000000000000000, 13631488, -20, -3, -2);
        _q(7125000000000000000, 13631488, -20, 0, 1);
        _q(7125000000000000000, 13631488, -20, 17, 18);
        _q(100000000000000000000, 13631488, -20, -128, -120);
        _q(100000000000000000000, 13631488, -20, -3, 5);
        _q(100000000000000000000, 13631488, -20, 0, 8);
        _q(100000000000000000000, 13631488, -20, 17, 25);
        _q(-3750000000000000000, 8796093, -43, -128, -128);
        _q(-3750000000000000000, 8796093, -43, -3, -128);
        _q(-3750000000000000000, 8796093, -43, 0, -128);
        _q(-3750000000000000000, 8796093, -43, 17, -128);
        _q(-1000000000000000000, 8796093, -43, -128, -128);
        _q(-1000000000000000000, 8796093, -43, -3, -128);
        _q(-1000000000000000000, 8796093, -43, 0, -128);
        _q(-1000000000000000000, 8796093, -43, 17, -128);
        _q(0, 8796093, -43, -128, -128);
        _q(0, 8796093, -43, -3, -3);
        _q(0, 8796093, -43, 0, 0);
        _q(0, 8796093, -43, 17, 17);
        _q(1000000000000000000, 8796093, -43, -128, 127);
        _q(1000000000000000000, 8796093, -43, -3, 127);
        _q(1000000000000000000, 8796093, -43, 0, 127);
        _q(1000000000000000000, 8796093, -43, 17, 127);
        _q(2500000000000000000, 8796093, -43, -128, 127);
        _q(2500000000000000000, 8796093, -43, -3, 127);
        _q(2500000000000000000, 8796093, -43, 0, 127);
        _q(2500000000000000000, 8796093, -43, 17, 127);
        _q(7125000000000000000, 8796093, -43, -128, 127);
        _q(7125000000000000000, 8796093, -43, -3, 127);
        _q(7125000000000000000, 8796093, -43, 0, 127);
        _q(7125000000000000000, 8796093, -43, 17, 127);
        _q(100000000000000000000, 8796093, -43, -128, 127);
        _q(100000000000000000000, 8796093, -43, -3, 127);
        _q(100000000000000000000, 8796093, -43, 0, 127);
        _q(100000000000000000000, 8796093, -43, 17, 127);
        _q(300000011920928955, 13421773, -28, 3, 9);
        _q(-7125000000000000000, 13421773, -28, 3, -128);
        _q(16000000000000000000, 13421773, -28, 3, 127);
        _q(100000001169, 13421773, -28, 3, 3);
    }

    function test_quantize_fixed18_extremes() public view {
        // inputs beyond ±2^100 are clamped first, then saturate
        _q(type(int256).max, 13421773, -28, 3, 127);
        _q(type(int256).min, 13421773, -28, 3, -128);
        // smallest subnormal scale 2^-149 (the reference shifts by min(149, 126)): any x != 0 saturates
        _q(1, 1, -149, 5, 127);
        _q(-1, 1, -149, 5, -128);
        _q(0, 1, -149, 5, 5);
        _q(type(int256).max, 1, -149, 5, 127);
        _q(type(int256).min, 1, -149, 5, -128);
        // largest scale (f32::MAX): denominator overflows i128, the code is the zero point
        _q(type(int256).max, 16777215, 104, -7, -7);
        _q(type(int256).min, 16777215, 104, -7, -7);
        // the ±2^100 input clamp changes the code for scales above ~5e9 (here 2^40):
        // exact would be round(1e22 / 2^40) -> 127, the reference gives round(2^100 / (1e18·2^40)) = 1
        _q(1e40, 8388608, 17, 0, 1);
        _q(-1e40, 8388608, 17, 0, -1);
        // denominator exactly at the i128 edge: e = 60 with m = 2^23 is 1e18 · 2^83 > 2^127 -> 0
        _q(1 << 100, 8388608, 60, 9, 9);
        // int32 zero points are accepted (io.rs takes i32), the result clamps
        _q(0, 8388608, -23, MAX, 127);
        _q(0, 8388608, -23, MIN, -128);
        try h.quantizeFixed18(0, 0, -23, 0) {
            revert("m = 0 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.InvalidScale.selector, "m = 0");
        }
        try h.quantizeFixed18(0, 1 << 24, -23, 0) {
            revert("m = 2^24 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.InvalidScale.selector, "m = 2^24");
        }
        try h.quantizeFixed18(0, 1 << 22, -23, 0) {
            revert("non-normalised m accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.InvalidScale.selector, "non-normalised m");
        }
        try h.quantizeFixed18(0, 1 << 23, 105, 0) {
            revert("e = 105 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.InvalidScale.selector, "e = 105");
        }
        try h.quantizeFixed18(0, 1 << 23, -150, 0) {
            revert("e = -150 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.InvalidScale.selector, "e = -150");
        }
        try h.quantizeFixed18(0, 1 << 23, -23, MAX + 1) {
            revert("zp = 2^31 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.NotInt32.selector, "zp = 2^31");
        }
    }

    // ---------------------------------------------------------------- IO: dequantizeFixed18

    function test_dequantize_fixed18() public view {
        // io.rs dequantize_fixed18_is_exact_for_dyadic_scales
        _eq(SolidMLMath.dequantizeFixed18(10, 8388608, -25, 2), 2e18, "10 @ 0.25, zp 2");
        _eq(SolidMLMath.dequantizeFixed18(-128, 8388608, -24, 0), -64e18, "-128 @ 0.5");
        // 0.1f32 = 13421773 · 2^-27 = 0.100000001490116119384765625 (io.rs f32_to_fixed18 test)
        _eq(SolidMLMath.dequantizeFixed18(1, 13421773, -27, 0), 100000001490116119, "1 @ 0.1");
        _eq(SolidMLMath.dequantizeFixed18(-128, 13421773, -27, 127), -25500000379979610443, "-128 @ 0.1, zp 127");
        // exact halves round to even: scale (2^23 + 1) · 2^-19, (q − zp) · m · 5^18 / 2 is k.5
        _eq(SolidMLMath.dequantizeFixed18(1, 8388609, -19, 0), 16000001907348632812, "tie -> even (down)");
        _eq(SolidMLMath.dequantizeFixed18(3, 8388609, -19, 0), 48000005722045898438, "tie -> even (up)");
        _eq(SolidMLMath.dequantizeFixed18(-1, 8388609, -19, 0), -16000001907348632812, "negative tie");
        // positive exponents: exact left shift
        _eq(SolidMLMath.dequantizeFixed18(127, 8388608, 17, -128), 280375465082880000000000000000000, "255 @ 2^40");
        // subnormal scale: far below 1e-18 per step, rounds to 0
        _eq(SolidMLMath.dequantizeFixed18(127, 1, -149, -128), 0, "subnormal scale");
        // q == zp is 0 at every scale, even where other codes are out of range
        _eq(SolidMLMath.dequantizeFixed18(5, 16777215, 104, 5), 0, "q == zp @ f32::MAX");
        // beyond the int128 range the result saturates (spec §IO quantization)
        require(h.dequantizeFixed18(6, 16777215, 104, 5) == type(int128).max, "saturates high");
        require(h.dequantizeFixed18(4, 16777215, 104, 5) == type(int128).min, "saturates low");
        try h.dequantizeFixed18(0, 8388608, -24, MIN) {
            revert("q - zp beyond i32 accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.Fixed18OutOfRange.selector, "q - zp beyond i32");
        }
        try h.dequantizeFixed18(0, 0, -24, 0) {
            revert("bad scale accepted");
        } catch (bytes memory err) {
            _revertsWith(err, SolidMLMath.InvalidScale.selector, "bad scale");
        }
    }

    /// Round trip on every code: dequantize then quantize gives the code back (scale 0.1, zp -3).
    function test_fixed18_round_trip_all_codes() public pure {
        for (int256 q = -128; q <= 127; ++q) {
            int256 x = SolidMLMath.dequantizeFixed18(int8(q), 13421773, -27, -3);
            _eq(SolidMLMath.quantizeFixed18(x, 13421773, -27, -3), q, "round trip");
        }
    }
}
