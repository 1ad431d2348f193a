// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {SolidMLTest, SolidMLWrapper, SOLIDML_VM} from "../src/test/SolidMLTest.sol";

/// A route that answers what it was told: `status ‖ charge ‖ data`.
contract FixedRoute {
    bytes answer;

    function set(bytes memory a) external {
        answer = a;
    }

    fallback(bytes calldata) external returns (bytes memory) {
        return answer;
    }
}

/// The wrapper's contract, to the unit of gas: the frame at the SolidML address consumes
/// exactly the route's charge, and returns or reverts with exactly its data.
contract SolidMLWrapperTest is SolidMLTest {
    address constant W = address(0x501d);
    address constant EMPTY = address(0xE0E0);
    FixedRoute route;

    function setUp() public {
        route = new FixedRoute();
        SOLIDML_VM.etch(W, SolidMLWrapper.code(address(route)));
        SOLIDML_VM.etch(EMPTY, hex"00");
    }

    /// Gas a staticcall to `target` takes from the caller, and what it answered.
    function measure(address target, bytes memory input, uint256 gasGiven)
        internal
        view
        returns (uint256 used, bool ok, bytes memory ret)
    {
        uint256 g0;
        uint256 g1;
        assembly {
            g0 := gas()
            ok := staticcall(gasGiven, target, add(input, 32), mload(input), 0, 0)
            g1 := gas()
        }
        ret = new bytes(0);
        assembly {
            let n := returndatasize()
            ret := mload(0x40)
            mstore(ret, n)
            returndatacopy(add(ret, 32), 0, n)
            mstore(0x40, add(add(ret, 32), n))
        }
        used = g0 - g1;
    }

    /// The frame's own consumption: the call's gas minus that of a call to an empty account
    /// (both warm, same input, no return data copied).
    function frameGas(bytes memory input, uint256 gasGiven) internal view returns (uint256, bool, bytes memory) {
        solidmlWarm();
        measure(W, input, gasGiven); // warm the route
        measure(EMPTY, input, gasGiven);
        (uint256 used, bool ok, bytes memory ret) = measure(W, input, gasGiven);
        (uint256 baseline,,) = measure(EMPTY, input, gasGiven);
        return (used - baseline, ok, ret);
    }

    function check(uint256 status, uint256 charge, bytes memory data, bytes memory input) internal {
        route.set(abi.encodePacked(status, charge, data));
        (uint256 frame, bool ok, bytes memory ret) = frameGas(input, 10_000_000);
        require(frame == charge, string.concat("frame gas ", vm_toString(frame), " != charge ", vm_toString(charge)));
        require(ok == (status == 0), "success flag");
        require(keccak256(ret) == keccak256(data), "return data");
    }

    function test_return_charges_exactly() public {
        check(0, 3_305, hex"0102030405060708090a", new bytes(96));
        check(0, 2_577, hex"07", new bytes(40));
        check(0, 45_662_590 / 10, new bytes(1000), new bytes(33));
        check(0, 2_001, "", "");
    }

    function test_revert_charges_exactly() public {
        check(1, 5_000, abi.encodeWithSignature("SolidMLError(uint8,string)", uint8(1), "short"), hex"01");
        check(1, 2_000, abi.encodeWithSignature("SolidMLError(uint8,string)", uint8(1), "short"), hex"01");
        check(1, 2_198, abi.encodeWithSignature("SolidMLError(uint8,string)", uint8(2), "unknown"), new bytes(33));
    }

    function test_halt_consumes_all_gas_given() public {
        route.set(abi.encodePacked(uint256(2), uint256(0)));
        measure(W, "", 50_000);
        (uint256 used, bool ok, bytes memory ret) = measure(W, hex"00", 50_000);
        require(!ok && ret.length == 0, "halt: no data");
        require(used >= 50_000, "halt consumes the gas given");
    }

    /// The one inexact case (module doc): a charge below what the wrapper spends before it can
    /// burn, on the first call of a transaction (the cheatcode address still cold).
    function test_cold_first_call_small_charge_is_bounded() public {
        route.set(abi.encodePacked(uint256(0), uint256(2_000), hex"01"));
        (uint256 used,,) = measure(W, hex"00", 1_000_000);
        require(used > 2_000 + 2_600 && used < 2_000 + 2_600 + 2_600 + 1_000, "first call: cold accesses bounded");
    }

    function vm_toString(uint256 v) internal pure returns (string memory s) {
        if (v == 0) return "0";
        bytes memory b;
        for (; v != 0; v /= 10) b = abi.encodePacked(bytes1(uint8(48 + v % 10)), b);
        return string(b);
    }
}
