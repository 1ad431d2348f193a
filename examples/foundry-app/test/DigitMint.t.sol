// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {SolidML} from "solidml/SolidML.sol";
import {SolidMLTest, SolidMLRoute} from "solidml/test/SolidMLTest.sol";
import {SolidMLModels} from "../src/models/SolidMLModels.sol";
import {DigitMint, IERC721Receiver} from "../src/DigitMint.sol";
import {DigitFixtures} from "./DigitFixtures.sol";

/// The cheatcodes these tests use (a subset of forge-std's Vm: this project has no forge-std).
interface Vm {
    struct Gas {
        uint64 gasLimit;
        uint64 gasTotalUsed;
        uint64 gasMemoryUsed;
        int64 gasRefunded;
        uint64 gasRemaining;
    }

    function prank(address sender) external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;
    function lastCallGas() external view returns (Gas memory);
    function snapshotGasLastCall(string calldata group, string calldata name) external returns (uint256);
}

/// A wallet contract that accepts ERC-721 tokens.
contract Receiver is IERC721Receiver {
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC721Receiver.onERC721Received.selector;
    }
}

/// A contract that knows nothing of ERC-721.
contract NotAReceiver {}

/// DigitMint's tests, written once and run by both routes of SolidMLTest (the contracts at the
/// end): the answers, the reverts and the gas must be the same whichever executes the model.
abstract contract DigitMintTest is SolidMLTest {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    /// ≈ 90%: the model must give the claimed digit at least 230/256.
    uint8 internal constant MIN_CONFIDENCE = 230;
    /// The precompile's price for one digits inference (docs/spec.md §Gas, version 2):
    /// 2,000 + 6 · (64 + 18) + ⌈(6,464 · 5 + 35 · 384 + 301 · 96 + 6,464 · 16) / 1024⌉ + 7 · 16.
    uint256 internal constant PRECOMPILE_GAS = 2_778;

    DigitMint internal nft;

    /// The route this contract's tests run through.
    function route() internal pure virtual returns (SolidMLRoute);

    function setUp() public {
        solidmlSetUp(SolidMLModels.all(), route());
        nft = new DigitMint(MIN_CONFIDENCE);
    }

    // ------------------------------------------------------------ minting

    /// A clear image of every digit mints a token showing it, to the caller.
    function test_clear_digits_mint() public {
        for (uint8 d; d < 10; ++d) {
            uint8 confidence = d == 9 ? 250 : 255; // what the model gives these images
            vm.expectEmit(true, true, true, true, address(nft));
            emit DigitMint.Transfer(address(0), ALICE, d + 1);
            vm.expectEmit(true, true, true, true, address(nft));
            emit DigitMint.DigitMinted(d + 1, ALICE, d, confidence);
            vm.prank(ALICE);
            uint256 id = nft.mint(d, DigitFixtures.clear(d));
            assertEq(id, d + 1, "token id");
            assertEq(nft.ownerOf(id), ALICE, "owner");
            assertEq(nft.digitOf(id), d, "digit stored");
            assertEq(nft.confidenceOf(id), confidence, "confidence stored");
            assertEq(nft.tokenOfImage(keccak256(DigitFixtures.clear(d))), id, "image recorded");
        }
        assertEq(nft.balanceOf(ALICE), 10, "balance");
        assertEq(nft.totalSupply(), 10, "supply");
    }

    /// The failing path: the model sees a 3, the caller claims an 8.
    function test_wrong_claim_reverts_NotThatDigit() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.NotThatDigit.selector, uint8(8), uint8(3)));
        nft.mint(8, DigitFixtures.THREE);
        assertEq(nft.balanceOf(ALICE), 0, "nothing minted");
        assertEq(nft.totalSupply(), 0, "supply");
        // and the right claim of the same image still mints
        vm.prank(ALICE);
        assertEq(nft.mint(3, DigitFixtures.THREE), 1, "minted");
    }

    /// The contract trusts the model, not the dataset: a 9 the model takes for a 5 cannot mint
    /// as a 9, and mints as a 5.
    function test_the_model_is_the_judge() public {
        assertEq(DigitFixtures.labelOf(DigitFixtures.NINE_SEEN_AS_FIVE), 9, "the dataset says 9");
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.NotThatDigit.selector, uint8(9), uint8(5)));
        nft.mint(9, DigitFixtures.NINE_SEEN_AS_FIVE);
        vm.prank(ALICE);
        uint256 id = nft.mint(5, DigitFixtures.NINE_SEEN_AS_FIVE);
        assertEq(nft.digitOf(id), 5, "minted as the model saw it");
    }

    /// Right digit, but the model is not sure enough.
    function test_unsure_images_revert_NotConfident() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.NotConfident.selector, uint8(5), uint8(229), MIN_CONFIDENCE));
        nft.mint(5, DigitFixtures.UNSURE_FIVE);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.NotConfident.selector, uint8(6), uint8(153), MIN_CONFIDENCE));
        nft.mint(6, DigitFixtures.UNSURE_SIX);
        assertEq(nft.totalSupply(), 0, "nothing minted");
    }

    /// The threshold is inclusive: at 229/256 the unsure 5 mints.
    function test_threshold_is_inclusive() public {
        DigitMint lenient = new DigitMint(229);
        vm.prank(ALICE);
        uint256 id = lenient.mint(5, DigitFixtures.UNSURE_FIVE);
        assertEq(lenient.confidenceOf(id), 229, "confidence");
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.NotConfident.selector, uint8(6), uint8(153), uint8(229)));
        lenient.mint(6, DigitFixtures.UNSURE_SIX);
    }

    /// An image mints once, whoever claims it and whatever they claim.
    function test_an_image_mints_once() public {
        vm.prank(ALICE);
        nft.mint(0, DigitFixtures.ZERO);
        bytes32 h = keccak256(DigitFixtures.ZERO);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.ImageAlreadyMinted.selector, h, uint256(1)));
        nft.mint(0, DigitFixtures.ZERO);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.ImageAlreadyMinted.selector, h, uint256(1)));
        nft.mint(7, DigitFixtures.ZERO);
    }

    /// A claim outside 0–9 is refused before the model runs.
    function test_not_a_digit() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.NotADigit.selector, uint8(10)));
        nft.mint(10, DigitFixtures.ZERO);
    }

    /// The model refuses an image that is not 64 bytes: the precompile's SolidMLError (code 3,
    /// InputLength) bubbles up through DigitMint with the precompile's exact message.
    function test_wrong_image_length_reverts_SolidMLError() public {
        uint256[3] memory lengths = [uint256(63), 65, 0];
        for (uint256 i; i < lengths.length; ++i) {
            uint256 n = lengths[i];
            bytes memory image = new bytes(n);
            vm.prank(ALICE);
            vm.expectRevert(
                abi.encodeWithSelector(
                    SolidML.SolidMLError.selector,
                    uint8(3),
                    string.concat(
                        "model 0x",
                        hex32(SolidMLModels.DIGITS),
                        " expects 64 input bytes (input: int8[1\xc3\x9764]), got ",
                        decimal(n)
                    )
                )
            );
            nft.mint(1, image);
        }
        assertEq(nft.totalSupply(), 0, "nothing minted");
    }

    // ------------------------------------------------------------ the model

    /// The model's answers to every fixture, byte for byte, as the CPU reference executor gives
    /// them (`solidml precompile --model src/models/digits.smodel 0x<DIGITS><image>`).
    function test_model_answers_as_the_reference() public view {
        bytes[13] memory images = [
            DigitFixtures.ZERO,
            DigitFixtures.ONE,
            DigitFixtures.TWO,
            DigitFixtures.THREE,
            DigitFixtures.FOUR,
            DigitFixtures.FIVE,
            DigitFixtures.SIX,
            DigitFixtures.SEVEN,
            DigitFixtures.EIGHT,
            DigitFixtures.NINE,
            DigitFixtures.UNSURE_FIVE,
            DigitFixtures.UNSURE_SIX,
            DigitFixtures.NINE_SEEN_AS_FIVE
        ];
        bytes[13] memory answers = [
            bytes(hex"00000000000000007f808080808080808080"),
            hex"0000000000000001807f8080808080808080",
            hex"000000000000000280807f80808080808080",
            hex"00000000000000038080807f808080808080",
            hex"0000000000000004808080807f8080808080",
            hex"000000000000000580808080807f80808080",
            hex"00000000000000068080808080807f808080",
            hex"0000000000000007808080808080807f8080",
            hex"000000000000000880808080808080807f80",
            hex"00000000000000098080808080868080807a",
            hex"000000000000000580808081806580808199",
            hex"00000000000000068080808080e719808080",
            hex"000000000000000580808080807f80808081"
        ];
        for (uint256 i; i < images.length; ++i) {
            bytes memory out = SolidML.run(SolidMLModels.DIGITS, images[i]);
            require(keccak256(out) == keccak256(answers[i]), string.concat("answer to fixture ", decimal(i)));
        }
    }

    /// The model call costs exactly the precompile's price, as on a SolidML node.
    function test_model_call_gas_is_the_precompile_charge() public view {
        solidmlWarm();
        assertEq(solidmlPrice(SolidMLModels.all()[0]), PRECOMPILE_GAS, "the schedule's price");
        (bool ok, bytes memory out) =
            SOLIDML_ADDRESS.staticcall(abi.encodePacked(SolidMLModels.DIGITS, DigitFixtures.SEVEN));
        uint256 used = vm.lastCallGas().gasTotalUsed;
        require(ok && out.length == 18, "model call");
        assertEq(used, PRECOMPILE_GAS, "gas of the model call");
    }

    /// The gas of mints, as a SolidML node charges them (solidmlWarm: 0x…501D is warm, as a
    /// precompile always is), recorded in snapshots/DigitMint.json with the route in the name;
    /// test.sh checks both routes spend the same.
    function test_mint_gas() public {
        solidmlWarm();
        // the collection's first mint: every slot it writes is new
        vm.prank(ALICE);
        nft.mint(7, DigitFixtures.SEVEN);
        uint256 first = vm.snapshotGasLastCall("DigitMint", string.concat("mint_first_", routeName()));
        // a later mint by a holder: the supply and the balance are already non-zero
        vm.prank(ALICE);
        nft.mint(8, DigitFixtures.EIGHT);
        uint256 next = vm.snapshotGasLastCall("DigitMint", string.concat("mint_next_", routeName()));
        // a refused claim: the model runs, the mint reverts (NotThatDigit)
        vm.prank(BOB);
        (bool ok,) = address(nft).call(abi.encodeCall(DigitMint.mint, (1, DigitFixtures.THREE)));
        uint256 refused = vm.snapshotGasLastCall("DigitMint", string.concat("mint_refused_", routeName()));
        assertTrue(!ok, "the refused claim reverts");
        assertTrue(next < first && refused < next && refused > PRECOMPILE_GAS, "every mint runs the model");
    }

    // ------------------------------------------------------------ ERC-721

    function test_transfers_and_approvals() public {
        vm.prank(ALICE);
        uint256 id = nft.mint(4, DigitFixtures.FOUR);

        // only the owner or an approved address moves a token
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.NotAuthorized.selector, BOB, id));
        nft.transferFrom(ALICE, BOB, id);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.WrongOwner.selector, BOB, id));
        nft.transferFrom(BOB, ALICE, id);

        vm.expectEmit(true, true, true, true, address(nft));
        emit DigitMint.Approval(ALICE, BOB, id);
        vm.prank(ALICE);
        nft.approve(BOB, id);
        vm.expectEmit(true, true, true, true, address(nft));
        emit DigitMint.Transfer(ALICE, BOB, id);
        vm.prank(BOB);
        nft.transferFrom(ALICE, BOB, id);
        assertEq(nft.ownerOf(id), BOB, "new owner");
        assertEq(nft.getApproved(id), address(0), "approval cleared");
        assertEq(nft.balanceOf(ALICE), 0, "alice");
        assertEq(nft.balanceOf(BOB), 1, "bob");
        assertEq(nft.digitOf(id), 4, "the token still shows its digit");

        // an operator moves any of the owner's tokens
        vm.prank(BOB);
        nft.setApprovalForAll(ALICE, true);
        assertTrue(nft.isApprovedForAll(BOB, ALICE), "operator");
        vm.prank(ALICE);
        nft.transferFrom(BOB, ALICE, id);
        assertEq(nft.ownerOf(id), ALICE, "back to alice");

        vm.expectRevert(abi.encodeWithSelector(DigitMint.NonexistentToken.selector, uint256(2)));
        nft.ownerOf(2);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.ZeroAddress.selector));
        nft.balanceOf(address(0));
    }

    function test_safe_transfers() public {
        vm.prank(ALICE);
        uint256 id = nft.mint(2, DigitFixtures.TWO);
        address wallet = address(new Receiver());
        address other = address(new NotAReceiver());
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(DigitMint.UnsafeRecipient.selector, other));
        nft.safeTransferFrom(ALICE, other, id);
        vm.prank(ALICE);
        nft.safeTransferFrom(ALICE, wallet, id);
        assertEq(nft.ownerOf(id), wallet, "the wallet holds it");
        assertTrue(nft.supportsInterface(0x80ac58cd) && nft.supportsInterface(0x01ffc9a7), "ERC-721, ERC-165");
        assertTrue(!nft.supportsInterface(0x5b5e139f), "no metadata extension");
    }

    // ------------------------------------------------------------ helpers

    function routeName() internal pure returns (string memory) {
        return route() == SolidMLRoute.Evm ? "evm" : "native";
    }

    function assertEq(uint256 a, uint256 b, string memory what) internal pure {
        if (a != b) revert(string.concat(what, ": ", decimal(a), " != ", decimal(b)));
    }

    function assertEq(address a, address b, string memory what) internal pure {
        if (a != b) revert(string.concat(what, ": wrong address"));
    }

    function assertTrue(bool ok, string memory what) internal pure {
        if (!ok) revert(what);
    }

    function decimal(uint256 v) internal pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory b;
        for (; v != 0; v /= 10) {
            b = abi.encodePacked(bytes1(uint8(48 + v % 10)), b);
        }
        return string(b);
    }

    function hex32(bytes32 v) internal pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        bytes memory s = new bytes(64);
        for (uint256 i; i < 32; ++i) {
            s[2 * i] = digits[uint8(v[i]) >> 4];
            s[2 * i + 1] = digits[uint8(v[i]) & 15];
        }
        return string(s);
    }
}

/// The pure-EVM route: the generated contract src/models/digits.sol answers at 0x…501D.
contract DigitMintEvmTest is DigitMintTest {
    function route() internal pure override returns (SolidMLRoute) {
        return SolidMLRoute.Evm;
    }
}

/// The native route: `solidml precompile` (a node's executor) answers at 0x…501D through vm.ffi
/// (ffi = true in foundry.toml; the binary in $SOLIDML_BIN or on the PATH).
contract DigitMintNativeTest is DigitMintTest {
    function route() internal pure override returns (SolidMLRoute) {
        return SolidMLRoute.Native;
    }
}
