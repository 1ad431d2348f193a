// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {SolidMLModel, SolidMLRoute} from "../SolidMLModel.sol";
import {SolidMLOpenGradient, SolidMLTensor, SolidMLOgRequest} from "./SolidMLOpenGradient.sol";

/// @title SolidMLTest: the SolidML precompile inside `forge test`.
/// @notice Inherit it and call `solidmlSetUp(models, route)` in `setUp`: the SolidML address
///         (0x…501D) and the OpenGradient-compatible entry (0x…F4) then answer as on a SolidML
///         node, by one of two routes:
///         - `SolidMLRoute.Native`: each call goes through `vm.ffi` to `solidml precompile`, the
///           executor a node runs (needs `ffi = true` in foundry.toml, or `forge test --ffi`, and
///           the `solidml` binary: `$SOLIDML_BIN`, else `solidml` on the PATH);
///         - `SolidMLRoute.Evm`: no ffi; each modelId is routed to its generated pure-Solidity
///           contract (`src/models/NAME.sol`), deployed here.
///         `models` is `SolidMLModels.all()` from `src/models/SolidMLModels.sol`, which
///         `solidml init` (and `solidml build`) writes from `solidml.toml`.
/// @dev    Contract of both routes (docs/foundry.md §Routes):
///         - Bytes: the same return data as the precompile, at both addresses; failures revert
///           with the same `SolidMLError(code, message)` bytes. Exceptions, on the EVM route
///           only: a run-time error inside a generated contract reverts with code 6 and that
///           contract's revert data in the message; a model the Solidity backend refuses has no
///           contract to route to (code 9, saying so); OpenGradient calldata that Solidity's
///           ABI decoder rejects but alloy's accepts (or the reverse) gets code 8 either way.
///         - Gas: the frame at the address consumes exactly the precompile's charge
///           (docs/precompile.md §Gas schedule): the work runs with gas metering paused, then a
///           hand-assembled wrapper (stdlib-sol/tools/route_wrapper.py) burns the charge to the
///           unit. What remains is EIP-2929's access cost, which a node never charges for its
///           precompiles: forge does not know 0x…501D is one, so a transaction's first call to
///           it pays 2,600 gas of cold access instead of 100; and the wrapper's own call to the
///           cheatcode address costs 2,600 while that address is cold (the first SolidML call,
///           or any call after one that reverted: a revert rolls the warm set back), so a
///           charge below ~3,000 gas (a base-only failure, the smallest models) is then
///           exceeded. `solidmlWarm()` at the start of a test warms the three addresses: from
///           then on the gas of every call equals the node's exactly
///           (stdlib-sol/test/SolidMLTest.t.sol checks it to the unit).
abstract contract SolidMLTest {
    /// A model's generated contract could not be deployed for the EVM route.
    error SolidMLEvmRouteDeploy(string evmContract);

    /// The SolidML precompile (docs/precompile.md).
    address internal constant SOLIDML_ADDRESS = 0x000000000000000000000000000000000000501d;
    /// The OpenGradient-compatible entry.
    address internal constant SOLIDML_OG_ADDRESS = 0x00000000000000000000000000000000000000F4;

    /// How the SolidML addresses answer, per test contract.
    SolidMLRoute internal solidmlRoute;

    /// Etch the wrappers and deploy the routes for `models`.
    function solidmlSetUp(SolidMLModel[] memory models, SolidMLRoute route) internal {
        solidmlRoute = route;
        // the EVM route's contracts, deployed once for both addresses
        address[] memory targets = new address[](models.length);
        for (uint256 i; route == SolidMLRoute.Evm && i < models.length; ++i) {
            if (bytes(models[i].evmContract).length == 0) continue;
            try SOLIDML_VM.deployCode(models[i].evmContract) returns (address a) {
                targets[i] = a;
            } catch {
                revert SolidMLEvmRouteDeploy(models[i].evmContract);
            }
        }
        SolidMLRouter main = new SolidMLRouter(models, targets, route, false);
        SolidMLRouter og = new SolidMLRouter(models, targets, route, true);
        SOLIDML_VM.etch(SOLIDML_ADDRESS, SolidMLWrapper.code(address(main)));
        SOLIDML_VM.etch(SOLIDML_OG_ADDRESS, SolidMLWrapper.code(address(og)));
    }

    /// Make the SolidML addresses and the cheatcode address warm in this transaction (EIP-2929),
    /// as a node's precompile addresses always are: call it first in a test whose gas figures
    /// must equal a node's from the first SolidML call on.
    function solidmlWarm() internal view {
        SOLIDML_VM.envOr("SOLIDML_WARM", string(""));
        // calls with no gas: they fail at once, but the accounts they touch stay warm (and a
        // call, unlike extcodesize, is never optimized away)
        assembly ("memory-safe") {
            pop(staticcall(0, SOLIDML_ADDRESS, 0, 0, 0, 0))
            pop(staticcall(0, SOLIDML_OG_ADDRESS, 0, 0, 0, 0))
        }
    }

    /// The precompile's price for a call to `modelId` (docs/precompile.md §Gas schedule).
    function solidmlPrice(SolidMLModel memory m) internal pure returns (uint256) {
        return SolidMLGas.price(m.workGas, m.inputBytes, m.outputBytes);
    }
}

/// The gas schedule's formula (docs/precompile.md): `base + per_byte · bytes + work gas`, the
/// work gas computed per model by `solidml build` (`SolidMLModel.workGas`).
library SolidMLGas {
    uint256 internal constant BASE = 2_000;
    uint256 internal constant PER_BYTE = 6;

    function price(uint256 workGas, uint256 inputBytes, uint256 outputBytes) internal pure returns (uint256) {
        return BASE + PER_BYTE * (inputBytes + outputBytes) + workGas;
    }

    /// The charge of a call refused before any work: unknown model, wrong input length.
    function earlyFailure(uint256 callBytes) internal pure returns (uint256) {
        return BASE + PER_BYTE * callBytes;
    }
}

/// The cheatcodes used here (a subset of forge-std's `Vm`, declared here so that the library
/// needs no forge-std).
interface SolidMLVm {
    function etch(address target, bytes calldata code) external;
    function ffi(string[] calldata command) external returns (bytes memory);
    function envOr(string calldata name, string calldata defaultValue) external view returns (string memory);
    function deployCode(string calldata artifactPath) external returns (address);
}

SolidMLVm constant SOLIDML_VM = SolidMLVm(address(uint160(uint256(keccak256("hevm cheat code")))));

/// The gas-exact wrapper etched at the SolidML addresses: hand-assembled by
/// `stdlib-sol/tools/route_wrapper.py` (which documents every instruction); the route's address
/// goes between the two halves.
library SolidMLWrapper {
    bytes internal constant PREFIX =
        hex"5a30331460de5763d1a5b36f60e01b60005260006000600460006000737109709ecfa91a80626ff3989d68f67f5b1dd12d5af150600281016000523660006020376000600036602001600073";
    bytes internal constant SUFFIX =
        hex"5afa3d600060003e606f573d6000fd5b3d632bcd50e060e01b3d526000600060043d6000737109709ecfa91a80626ff3989d68f67f5b1dd12d5af1505a60005160021460dc578260ec01036000510160205181811160bf575050600060c1565b035b6000808080803086f1505060409003604060005160da57f35bfd5bfe5bfe";

    function code(address route) internal pure returns (bytes memory) {
        return abi.encodePacked(PREFIX, route, SUFFIX);
    }
}

/// What a route answers the wrapper: `status ‖ charge ‖ data`, status 0 return, 1 revert,
/// 2 halt (the price exceeds the gas at entry). Runs with gas metering paused.
contract SolidMLRouter {
    /// The SolidML precompile's error (stdlib-sol/src/SolidML.sol).
    error SolidMLError(uint8 code, string message);
    /// The native route could not run `solidml precompile`.
    error SolidMLNativeRouteFailed(string hint, bytes reason);
    uint256 internal constant MAX_INPUT_BYTES = 16 * 1024 * 1024;

    struct Entry {
        address target;
        uint256 workGas;
        uint256 inputBytes;
        uint256 outputBytes;
        string inputLayout;
        bytes tensors;
        bool known;
    }

    SolidMLRoute public route;
    bool public openGradient;
    string[] internal modelArgs;
    mapping(bytes32 => Entry) internal entries;

    /// `targets[i]`: `models[i]`'s generated contract on the EVM route (zero: none).
    constructor(SolidMLModel[] memory models, address[] memory targets, SolidMLRoute route_, bool openGradient_) {
        route = route_;
        openGradient = openGradient_;
        for (uint256 i; i < models.length; ++i) {
            SolidMLModel memory m = models[i];
            modelArgs.push("--model");
            modelArgs.push(m.artifact);
            entries[m.id] = Entry(targets[i], m.workGas, m.inputBytes, m.outputBytes, m.inputLayout, m.tensors, true);
        }
    }

    fallback(bytes calldata input) external returns (bytes memory) {
        uint256 gasAtEntry = uint256(bytes32(input[:32]));
        bytes calldata callData = input[32:];
        if (route == SolidMLRoute.Native) return native(gasAtEntry, callData);
        if (openGradient) return openGradientEvm(gasAtEntry, callData);
        return evm(gasAtEntry, callData);
    }

    /// `solidml precompile --abi` answers in this contract's format already.
    function native(uint256 gasAtEntry, bytes calldata callData) internal returns (bytes memory) {
        string[] memory cmd = new string[](6 + modelArgs.length + (openGradient ? 1 : 0));
        uint256 k;
        cmd[k++] = SOLIDML_VM.envOr("SOLIDML_BIN", string("solidml"));
        cmd[k++] = "precompile";
        cmd[k++] = "--abi";
        cmd[k++] = "--gas-limit";
        cmd[k++] = decimal(gasAtEntry);
        if (openGradient) cmd[k++] = "--opengradient";
        for (uint256 i; i < modelArgs.length; ++i) cmd[k++] = modelArgs[i];
        cmd[k++] = string.concat("0x", hexString(callData));
        (bool ok, bytes memory ret) = address(SOLIDML_VM).call(abi.encodeCall(SolidMLVm.ffi, (cmd)));
        if (!ok || ret.length < 64 + 64) {
            revert SolidMLNativeRouteFailed(
                "the native route runs `solidml precompile` through vm.ffi: set `ffi = true` in foundry.toml (or pass --ffi) and put `solidml` on the PATH or in $SOLIDML_BIN",
                ret
            );
        }
        return abi.decode(ret, (bytes));
    }

    /// The precompile's checks in its order (docs/spec.md §Gas), then the generated contract.
    function evm(uint256 gasAtEntry, bytes calldata callData) internal view returns (bytes memory) {
        uint256 len = callData.length;
        if (len > MAX_INPUT_BYTES) {
            return answer(gasAtEntry, 1, SolidMLGas.BASE, error_(4, string.concat("call input of ", decimal(len), " bytes exceeds the limit of ", decimal(MAX_INPUT_BYTES), " bytes")));
        }
        if (len < 32) {
            return answer(gasAtEntry, 1, SolidMLGas.BASE, error_(1, string.concat("input of ", decimal(len), " bytes is shorter than the 32-byte modelId")));
        }
        bytes32 id = bytes32(callData[:32]);
        Entry storage e = entries[id];
        if (!e.known) {
            return answer(gasAtEntry, 1, SolidMLGas.earlyFailure(len), error_(2, string.concat("unknown model 0x", hexString(abi.encodePacked(id)))));
        }
        if (len - 32 != e.inputBytes) {
            return answer(
                gasAtEntry,
                1,
                SolidMLGas.earlyFailure(len),
                error_(3, string.concat("model 0x", hexString(abi.encodePacked(id)), " expects ", decimal(e.inputBytes), " input bytes (", e.inputLayout, "), got ", decimal(len - 32)))
            );
        }
        uint256 price = SolidMLGas.price(e.workGas, e.inputBytes, e.outputBytes);
        if (e.target == address(0)) {
            return answer(gasAtEntry, 1, price, error_(9, string.concat("model 0x", hexString(abi.encodePacked(id)), " has no pure-Solidity contract (an operator the Solidity backend refuses): use SolidMLRoute.Native")));
        }
        if (price > gasAtEntry) return abi.encodePacked(uint256(2), gasAtEntry);
        (bool ok, bytes memory ret) = e.target.staticcall(abi.encodeWithSignature("predictQ(bytes)", callData[32:]));
        if (!ok) return answer(gasAtEntry, 1, price, error_(6, string.concat("execution failed: the pure-EVM contract reverted 0x", hexString(ret))));
        return answer(gasAtEntry, 0, price, abi.decode(ret, (bytes)));
    }

    /// Whether `runModelInference`'s argument decodes (an external call, so that a malformed
    /// request is caught rather than reverting the route; the route then decodes it from
    /// calldata: decoding this nested struct from memory, as a `returns` would, is too deep a
    /// stack for solc's legacy code generator with the optimizer on).
    function checkOpenGradient(bytes calldata args) external pure returns (bool) {
        abi.decode(args, (SolidMLOgRequest));
        return true;
    }

    /// The OpenGradient entry's checks in the node's order (opengradient.rs `call`), then the
    /// generated contract on the packed inputs.
    function openGradientEvm(uint256 gasAtEntry, bytes calldata callData) internal view returns (bytes memory) {
        (bytes memory refused, bytes32 id, SolidMLOgRequest memory r) = openGradientChecks(gasAtEntry, callData);
        if (refused.length != 0) return refused;
        Entry storage e = entries[id];
        (SolidMLTensor[] memory ins, SolidMLTensor[] memory outs) = abi.decode(e.tensors, (SolidMLTensor[], SolidMLTensor[]));
        (bool okIn, bytes memory packed, string memory why) = SolidMLOpenGradient.packInputs(r.input, ins);
        if (!okIn) return answer(gasAtEntry, 1, SolidMLGas.earlyFailure(callData.length), error_(8, string.concat("malformed ABI input: ", why)));
        uint256 price = SolidMLGas.price(e.workGas, callData.length, SolidMLOpenGradient.outputElements(outs) * SolidMLOpenGradient.OUTPUT_BYTES_PER_ELEMENT);
        return openGradientRun(gasAtEntry, id, e.target, price, packed, outs);
    }

    /// Up to the model lookup: the refusal (empty when the request passes), the model and the
    /// request.
    function openGradientChecks(uint256 gasAtEntry, bytes calldata callData)
        internal
        view
        returns (bytes memory refused, bytes32 id, SolidMLOgRequest memory r)
    {
        uint256 early = SolidMLGas.earlyFailure(callData.length);
        bool decoded;
        if (callData.length >= 4 && bytes4(callData[:4]) == SolidMLOpenGradient.SELECTOR) {
            try this.checkOpenGradient(callData[4:]) returns (bool ok) {
                decoded = ok;
            } catch {}
        }
        if (!decoded) return (answer(gasAtEntry, 1, early, error_(8, "malformed ABI input: calldata is not a runModelInference(ModelInferenceRequest) call")), 0, r);
        r = abi.decode(callData[4:], (SolidMLOgRequest));
        if (r.mode == 1 || r.mode == 2) {
            string memory mode = r.mode == 1 ? "ZK" : "TEE";
            return (answer(gasAtEntry, 1, early, error_(9, string.concat("inference mode ", mode, " is not available on SolidML: use VANILLA (results are exact and re-checkable)"))), 0, r);
        }
        if (r.mode > 2) return (answer(gasAtEntry, 1, early, error_(8, "malformed ABI input: unknown inference mode")), 0, r);
        bool okId;
        (okId, id) = SolidMLOpenGradient.parseCid(r.modelCID);
        if (!okId) {
            return (answer(gasAtEntry, 1, early, error_(9, string.concat("modelCID `", r.modelCID, "` is not a SolidML modelId (expected 0x followed by 64 hex digits)"))), 0, r);
        }
        if (!entries[id].known) return (answer(gasAtEntry, 1, early, error_(2, string.concat("unknown model 0x", hexString(abi.encodePacked(id))))), 0, r);
        if (r.input.strings.length != 0) {
            return (answer(gasAtEntry, 1, early, error_(9, "string tensors are not supported: SolidML models take numbers only")), 0, r);
        }
    }

    /// Run the generated contract on `packed` and encode the `ModelOutput`.
    function openGradientRun(uint256 gasAtEntry, bytes32 id, address target, uint256 price, bytes memory packed, SolidMLTensor[] memory outs)
        internal
        view
        returns (bytes memory)
    {
        if (target == address(0)) {
            return answer(gasAtEntry, 1, price, error_(9, string.concat("model 0x", hexString(abi.encodePacked(id)), " has no pure-Solidity contract (an operator the Solidity backend refuses): use SolidMLRoute.Native")));
        }
        if (price > gasAtEntry) return abi.encodePacked(uint256(2), gasAtEntry);
        (bool ok, bytes memory ret) = target.staticcall(abi.encodeWithSignature("predictQ(bytes)", packed));
        if (!ok) return answer(gasAtEntry, 1, price, error_(6, string.concat("execution failed: the pure-EVM contract reverted 0x", hexString(ret))));
        return answer(gasAtEntry, 0, price, SolidMLOpenGradient.encodeOutputs(abi.decode(ret, (bytes)), outs));
    }

    /// `status ‖ charge ‖ data`, or a halt when the charge exceeds the gas at entry.
    function answer(uint256 gasAtEntry, uint256 status, uint256 charge, bytes memory data) internal pure returns (bytes memory) {
        if (charge > gasAtEntry) return abi.encodePacked(uint256(2), gasAtEntry);
        return abi.encodePacked(status, charge, data);
    }

    function error_(uint8 code, string memory message) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(SolidMLError.selector, code, message);
    }

    function decimal(uint256 v) internal pure returns (string memory) {
        return SolidMLOpenGradient.decimal(v);
    }

    function hexString(bytes memory data) internal pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        bytes memory s = new bytes(2 * data.length);
        for (uint256 i; i < data.length; ++i) {
            s[2 * i] = digits[uint8(data[i]) >> 4];
            s[2 * i + 1] = digits[uint8(data[i]) & 15];
        }
        return string(s);
    }
}
