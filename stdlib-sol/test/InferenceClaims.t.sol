// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {InferenceClaims} from "../src/InferenceClaims.sol";
import {ISolidMLStep, SolidMLSteps} from "../src/SolidMLSteps.sol";

/// The cheatcodes used here, declared as forge-std's `Vm` declares them.
interface Vm {
    function prank(address sender) external;
    function warp(uint256 timestamp) external;
    function deal(address account, uint256 balance) external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
}

/// A four-step toy plan over 4-byte inputs, with the shape of a real one (the Rust tests play
/// the game with compiled models' step contracts): step 1 adds 1 to each input byte, step 2
/// xors step 1 with the input, step 3 reverses step 2, step 4 (the output step) copies step 3.
contract ToyStep is ISolidMLStep {
    bytes32 public immutable MODEL_ID;
    uint256 public immutable STEP;

    constructor(bytes32 id, uint256 k) {
        (MODEL_ID, STEP) = (id, k);
    }

    function reads() external view returns (uint256[] memory r) {
        if (STEP == 2) {
            r = new uint256[](2);
            (r[0], r[1]) = (1, 0);
        } else {
            r = new uint256[](1);
            r[0] = STEP - 1;
        }
    }

    /// The toy model's run-time error: step 1 fails on an input starting with 0xff.
    error Bad(uint8 first);

    function runStep(bytes[] calldata l) external view returns (bytes memory out) {
        if (STEP == 1 && l[0].length > 0 && uint8(l[0][0]) == 0xff) revert Bad(0xff);
        out = new bytes(l[0].length);
        for (uint256 i; i < out.length; ++i) {
            if (STEP == 1) out[i] = bytes1(uint8(l[0][i]) + 1);
            else if (STEP == 2) out[i] = l[0][i] ^ l[1][i];
            else if (STEP == 3) out[i] = l[0][out.length - 1 - i];
            else out[i] = l[0][i];
        }
    }
}

contract InferenceClaimsTest {
    Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    bytes32 constant ID = keccak256("toy model");
    uint256 constant WINDOW = 1 hours;
    uint256 constant ROUND = 10 minutes;
    uint256 constant CLAIM_BOND = 1 ether;
    uint256 constant CHALLENGE_BOND = 0.5 ether;
    address constant CLAIMER = address(0xC1A1);
    address constant CHALLENGER = address(0xC4A1);

    InferenceClaims game;
    SolidMLSteps steps;
    bytes constant INPUT = hex"01020304";

    function setUp() public {
        vm.warp(1000);
        game = new InferenceClaims(WINDOW, ROUND, CLAIM_BOND, CHALLENGE_BOND);
        steps = new SolidMLSteps(ID, 5, 4);
        ISolidMLStep[] memory s = new ISolidMLStep[](4);
        for (uint256 k = 1; k <= 4; ++k) {
            s[k - 1] = new ToyStep(ID, k);
        }
        steps.add(s);
        game.registerModel(steps);
        game.postInput(INPUT);
        vm.deal(CLAIMER, 10 ether);
        vm.deal(CHALLENGER, 10 ether);
    }

    // ------------------------------------------------------------ trace helpers

    function _outputs(bytes memory input) internal pure returns (bytes[] memory o) {
        o = new bytes[](5);
        o[0] = input;
        o[1] = new bytes(4);
        o[2] = new bytes(4);
        o[3] = new bytes(4);
        for (uint256 i; i < 4; ++i) {
            unchecked {
                o[1][i] = bytes1(uint8(input[i]) + 1);
            }
        }
        for (uint256 i; i < 4; ++i) o[2][i] = o[1][i] ^ input[i];
        for (uint256 i; i < 4; ++i) o[3][i] = o[2][3 - i];
        o[4] = o[3];
    }

    /// levels[0]: 8 leaves, levels[3]: the root.
    function _tree(bytes[] memory o) internal view returns (bytes32[][] memory) {
        bytes32[] memory leaves = new bytes32[](8);
        for (uint256 k; k < o.length; ++k) leaves[k] = game.leafOf(keccak256(o[k]));
        return _treeOf(leaves);
    }

    function _treeOf(bytes32[] memory leaves) internal view returns (bytes32[][] memory lv) {
        lv = new bytes32[][](4);
        lv[0] = leaves;
        for (uint256 l = 1; l <= 3; ++l) {
            lv[l] = new bytes32[](8 >> l);
            for (uint256 i; i < lv[l].length; ++i) lv[l][i] = game.nodeOf(lv[l - 1][2 * i], lv[l - 1][2 * i + 1]);
        }
    }

    function _proof(bytes32[][] memory lv, uint256 j, uint256 up) internal pure returns (bytes32[] memory p) {
        p = new bytes32[](up);
        for (uint256 l; l < up; ++l) p[l] = lv[l][(j >> l) ^ 1];
    }

    function _claim(bytes[] memory o, bytes32[][] memory lv) internal returns (uint256) {
        vm.prank(CLAIMER);
        return game.claim{value: CLAIM_BOND}(steps, keccak256(o[0]), o[4], lv[3][0], _proof(lv, 0, 3), _proof(lv, 4, 3));
    }

    function _challenge(uint256 claimId, bytes32[][] memory lv) internal returns (uint256) {
        return _challengeAs(CHALLENGER, claimId, lv);
    }

    function _challengeAs(address who, uint256 claimId, bytes32[][] memory lv) internal returns (uint256) {
        vm.prank(who);
        return game.challenge{value: CHALLENGE_BOND}(claimId, lv[3][0]);
    }

    /// Play every bisection round from both trees; returns the step reached.
    function _bisect(uint256 g, bytes32[][] memory mine, bytes32[][] memory theirs) internal returns (uint256 index) {
        return _bisectAs(CHALLENGER, g, mine, theirs);
    }

    function _bisectAs(address who, uint256 g, bytes32[][] memory mine, bytes32[][] memory theirs) internal returns (uint256 index) {
        for (uint256 level = 3; level >= 1; --level) {
            vm.prank(CLAIMER);
            game.revealClaimer(g, mine[level - 1][2 * index], mine[level - 1][2 * index + 1]);
            vm.prank(who);
            game.revealChallenger(g, theirs[level - 1][2 * index], theirs[level - 1][2 * index + 1]);
            index = game.games(g).index;
        }
    }

    /// The proof of step `k` from the honest trace `o`/`lv`.
    function _prove(uint256 g, uint256 k, bytes[] memory o, bytes32[][] memory lv) internal {
        uint256[] memory r = k == 0 || k > 4 ? new uint256[](0) : ToyStep(address(steps.step(k))).reads();
        bytes[] memory leaves = new bytes[](r.length);
        bytes32[][] memory proofs = new bytes32[][](r.length);
        for (uint256 i; i < r.length; ++i) {
            leaves[i] = o[r[i]];
            uint256 x = r[i] ^ k;
            uint256 up;
            while (x > 1) {
                x >>= 1;
                ++up;
            }
            proofs[i] = _proof(lv, r[i], up);
        }
        game.proveStep(g, k, leaves, proofs);
    }

    // ------------------------------------------------------------ the acceptance cases

    function test_honest_claim_finalizes_after_the_window() public {
        bytes[] memory o = _outputs(INPUT);
        uint256 c = _claim(o, _tree(o));
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.ChallengeWindowOpen.selector, c, 1000 + WINDOW));
        game.finalize(c);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.NotFinal.selector, c));
        game.result(c);
        vm.warp(1001 + WINDOW);
        game.finalize(c);
        require(keccak256(game.result(c)) == keccak256(o[4]), "result");
        (bool found, bytes memory out) = game.resultFor(ID, keccak256(INPUT));
        require(found && keccak256(out) == keccak256(o[4]), "resultFor");
        require(game.balanceOf(CLAIMER) == CLAIM_BOND, "bond back");
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.ClaimNotPending.selector, c));
        game.challenge{value: CHALLENGE_BOND}(c, bytes32(uint256(1)));
    }

    function test_a_flipped_output_byte_loses_at_the_output_step() public {
        bytes[] memory honest = _outputs(INPUT);
        bytes[] memory bad = _outputs(INPUT);
        bad[4] = hex"00000000";
        bad[4][0] = honest[4][0] ^ 0x01;
        for (uint256 i = 1; i < 4; ++i) bad[4][i] = honest[4][i];
        uint256 c = _claim(bad, _tree(bad));
        uint256 g = _challenge(c, _tree(honest));
        uint256 k = _bisect(g, _tree(bad), _tree(honest));
        require(k == 4, "the output step");
        _prove(g, k, honest, _tree(honest));
        require(game.games(g).winner == CHALLENGER, "challenger wins");
        require(game.claims(c).status == InferenceClaims.Status.Rejected, "rejected");
        require(game.balanceOf(CHALLENGER) == CHALLENGE_BOND + CLAIM_BOND / 2, "bonds: half the claim bond");
        require(game.burned() == CLAIM_BOND / 2, "the other half burned");
    }

    function test_a_wrong_intermediate_chunk_loses_at_that_step() public {
        bytes[] memory honest = _outputs(INPUT);
        bytes[] memory bad = _outputs(INPUT);
        bad[2] = hex"ffffffff"; // the output is right, the trace is not
        uint256 c = _claim(bad, _tree(bad));
        uint256 g = _challenge(c, _tree(honest));
        uint256 k = _bisect(g, _tree(bad), _tree(honest));
        require(k == 2, "step 2");
        _prove(g, k, honest, _tree(honest));
        require(game.games(g).winner == CHALLENGER, "challenger wins");
        require(game.claims(c).status == InferenceClaims.Status.Rejected, "rejected");
    }

    function test_a_dishonest_challenge_loses_by_proof_and_by_timeout() public {
        bytes[] memory honest = _outputs(INPUT);
        bytes[] memory bad = _outputs(INPUT);
        bad[3] = hex"00000000";
        uint256 c = _claim(honest, _tree(honest));
        // two challengers, two games in parallel on one claim
        address second = address(0xC4A2);
        vm.deal(second, 1 ether);
        uint256 g = _challenge(c, _tree(bad));
        uint256 g2 = _challengeAs(second, c, _tree(bad));
        require(game.claims(c).openGames == 2, "two open games");
        // the claimer proves the first game's step itself
        uint256 k = _bisect(g, _tree(honest), _tree(bad));
        require(k == 3, "step 3");
        vm.prank(CLAIMER);
        _prove(g, k, honest, _tree(honest));
        require(game.games(g).winner == CLAIMER, "claimer wins");
        // the second challenger never proves: the claimer wins by timeout
        _bisectAs(second, g2, _tree(honest), _tree(bad));
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.DeadlineNotReached.selector, g2, 1000 + ROUND));
        game.timeout(g2);
        vm.warp(1001 + ROUND);
        game.timeout(g2);
        require(game.games(g2).winner == CLAIMER, "claimer wins by timeout");
        vm.warp(1001 + WINDOW);
        game.finalize(c);
        require(game.balanceOf(CLAIMER) == CLAIM_BOND + 2 * CHALLENGE_BOND, "bonds");
        vm.prank(CLAIMER);
        game.withdraw();
        require(CLAIMER.balance == 10 ether + 2 * CHALLENGE_BOND, "withdrawn");
    }

    function test_a_claimer_that_stops_answering_loses() public {
        bytes[] memory honest = _outputs(INPUT);
        uint256 c = _claim(honest, _tree(honest));
        bytes[] memory bad = _outputs(INPUT);
        bad[1] = hex"09090909";
        uint256 g = _challenge(c, _tree(bad));
        vm.warp(1001 + ROUND);
        game.timeout(g);
        require(game.games(g).winner == CHALLENGER, "challenger wins by timeout");
        require(game.claims(c).status == InferenceClaims.Status.Rejected, "rejected");
    }

    // ------------------------------------------------------------ bad input

    function test_bad_input_reverts_with_a_named_error() public {
        bytes[] memory o = _outputs(INPUT);
        bytes32[][] memory lv = _tree(o);
        bytes32 root = lv[3][0];
        // a claim for an unknown model
        vm.prank(CLAIMER);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.UnknownModel.selector, address(0)));
        game.claim{value: CLAIM_BOND}(SolidMLSteps(address(0)), keccak256(INPUT), o[4], root, _proof(lv, 0, 3), _proof(lv, 4, 3));
        // an input nobody posted
        vm.prank(CLAIMER);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.InputNotPosted.selector, keccak256("x")));
        game.claim{value: CLAIM_BOND}(steps, keccak256("x"), o[4], root, _proof(lv, 0, 3), _proof(lv, 4, 3));
        // an input of the wrong length
        game.postInput(hex"010203");
        vm.prank(CLAIMER);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.InputLength.selector, 4, 3));
        game.claim{value: CLAIM_BOND}(steps, keccak256(hex"010203"), o[4], root, _proof(lv, 0, 3), _proof(lv, 4, 3));
        // wrong bond, wrong input and output paths
        vm.prank(CLAIMER);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.WrongBond.selector, CLAIM_BOND, 1));
        game.claim{value: 1}(steps, keccak256(INPUT), o[4], root, _proof(lv, 0, 3), _proof(lv, 4, 3));
        vm.prank(CLAIMER);
        vm.expectRevert(InferenceClaims.BadInputProof.selector);
        game.claim{value: CLAIM_BOND}(steps, keccak256(INPUT), o[4], root, _proof(lv, 1, 3), _proof(lv, 4, 3));
        vm.prank(CLAIMER);
        vm.expectRevert(InferenceClaims.BadOutputProof.selector);
        game.claim{value: CLAIM_BOND}(steps, keccak256(INPUT), o[3], root, _proof(lv, 0, 3), _proof(lv, 3, 3));
        uint256 c = _claim(o, lv);
        // the same root is no challenge
        vm.prank(CHALLENGER);
        vm.expectRevert(InferenceClaims.SameRoot.selector);
        game.challenge{value: CHALLENGE_BOND}(c, root);
        bytes[] memory bad = _outputs(INPUT);
        bad[2] = hex"00000000";
        bytes32[][] memory theirs = _tree(bad);
        uint256 g = _challenge(c, theirs);
        // a reveal out of turn, children that do not hash to the node
        vm.prank(CHALLENGER);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.NotYourTurn.selector, g, CHALLENGER, 0));
        game.revealChallenger(g, theirs[2][0], theirs[2][1]);
        vm.prank(CLAIMER);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.WrongChildren.selector, g));
        game.revealClaimer(g, lv[2][1], lv[2][0]);
        // a proof before the bisection ends
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.NotProofPhase.selector, g));
        game.proveStep(g, 2, new bytes[](0), new bytes32[][](0));
        uint256 k = _bisect(g, lv, theirs);
        require(k == 2, "step 2");
        // a proof for the wrong step, a wrong leaf count, a wrong Merkle path
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.WrongStep.selector, g, 2, 3));
        game.proveStep(g, 3, new bytes[](0), new bytes32[][](0));
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.LeafCount.selector, 2, 0));
        game.proveStep(g, 2, new bytes[](0), new bytes32[][](0));
        bytes[] memory leaves = new bytes[](2);
        (leaves[0], leaves[1]) = (o[1], o[0]);
        bytes32[][] memory proofs = new bytes32[][](2);
        (proofs[0], proofs[1]) = (_proof(lv, 1, 1), _proof(lv, 1, 1));
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.BadLeafProof.selector, 1, 0));
        game.proveStep(g, 2, leaves, proofs);
        // the challenge window closes; a claim with an open game cannot finalize
        vm.warp(1001 + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.GamesOpen.selector, c, 1));
        game.finalize(c);
        vm.prank(CHALLENGER);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.ChallengeWindowClosed.selector, c, 1000 + WINDOW));
        game.challenge{value: CHALLENGE_BOND}(c, bytes32(uint256(7)));
        // registering twice, or with missing steps
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.ModelExists.selector, address(steps)));
        game.registerModel(steps);
        SolidMLSteps incomplete = new SolidMLSteps(keccak256("other"), 5, 4);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.StepsIncomplete.selector, keccak256("other")));
        game.registerModel(incomplete);
        // the registry checks each step contract
        ISolidMLStep[] memory wrong = new ISolidMLStep[](1);
        wrong[0] = steps.step(2);
        vm.expectRevert(abi.encodeWithSelector(SolidMLSteps.WrongStep.selector, 1, address(wrong[0])));
        incomplete.add(wrong);
    }

    function test_a_wrong_input_leaf_or_padding_leaf_in_a_challenge_loses() public {
        bytes[] memory o = _outputs(INPUT);
        bytes32[][] memory lv = _tree(o);
        uint256 c = _claim(o, lv);
        // the challenger's tree disagrees at leaf 0 (the input): no step runs, the claim decides
        bytes32[] memory leaves = new bytes32[](8);
        for (uint256 k; k < 8; ++k) leaves[k] = lv[0][k];
        leaves[0] = bytes32(uint256(1));
        bytes32[][] memory wrong0 = _treeOf(leaves);
        uint256 g = _challenge(c, wrong0);
        require(_bisect(g, lv, wrong0) == 0, "leaf 0");
        _prove(g, 0, o, lv);
        require(game.games(g).winner == CLAIMER, "the input leaf is the claim's");
        // a non-zero leaf past the plan: the correct one is zero
        leaves[0] = lv[0][0];
        leaves[6] = bytes32(uint256(7));
        bytes32[][] memory wrong6 = _treeOf(leaves);
        g = _challenge(c, wrong6);
        require(_bisect(g, lv, wrong6) == 6, "leaf 6");
        _prove(g, 6, o, lv);
        require(game.games(g).winner == CLAIMER, "padding leaves are zero");
    }

    function test_a_challenger_that_stops_answering_loses_and_late_moves_are_refused() public {
        bytes[] memory o = _outputs(INPUT);
        bytes32[][] memory lv = _tree(o);
        uint256 c = _claim(o, lv);
        bytes[] memory bad = _outputs(INPUT);
        bad[3] = hex"00000000";
        bytes32[][] memory theirs = _tree(bad);
        uint256 g = _challenge(c, theirs);
        vm.prank(CLAIMER);
        game.revealClaimer(g, lv[2][0], lv[2][1]);
        vm.warp(1001 + ROUND);
        vm.prank(CHALLENGER);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.DeadlinePassed.selector, g, 1000 + ROUND));
        game.revealChallenger(g, theirs[2][0], theirs[2][1]);
        game.timeout(g);
        require(game.games(g).winner == CLAIMER, "the claimer wins by timeout");
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.GameIsOver.selector, g));
        game.timeout(g);
    }

    function test_open_games_on_a_rejected_claim_are_abandoned_by_their_challengers_only() public {
        bytes[] memory honest = _outputs(INPUT);
        bytes[] memory bad = _outputs(INPUT);
        bad[2] = hex"ffffffff";
        uint256 c = _claim(bad, _tree(bad));
        address second = address(0xC4A2);
        vm.deal(second, 1 ether);
        uint256 g = _challenge(c, _tree(honest));
        uint256 g2 = _challengeAs(second, c, _tree(honest));
        // abandoning needs a rejected claim
        vm.prank(second);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.NotAbandonable.selector, g2));
        game.abandon(g2);
        _prove(g, _bisect(g, _tree(bad), _tree(honest)), honest, _tree(honest));
        require(game.claims(c).status == InferenceClaims.Status.Rejected, "rejected");
        // only the game's challenger takes its bond back
        vm.prank(CHALLENGER);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.NotAbandonable.selector, g2));
        game.abandon(g2);
        vm.prank(second);
        game.abandon(g2);
        require(game.balanceOf(second) == CHALLENGE_BOND && game.claims(c).openGames == 0, "bond back");
        vm.prank(second);
        vm.expectRevert(abi.encodeWithSelector(InferenceClaims.GameIsOver.selector, g2));
        game.abandon(g2);
    }

    function test_a_claim_on_an_input_the_model_fails_on_loses_at_the_failing_step() public {
        bytes memory input = hex"ff020304";
        game.postInput(input);
        // the claimer pretends the model ran: some bytes at every step
        bytes[] memory bad = _outputs(input);
        bytes32[][] memory mine = _tree(bad);
        vm.prank(CLAIMER);
        uint256 c = game.claim{value: CLAIM_BOND}(steps, keccak256(input), bad[4], mine[3][0], _proof(mine, 0, 3), _proof(mine, 4, 3));
        // the honest trace: step 1 fails, and every step reading a failed one; no bytes
        bytes[] memory failed = new bytes[](5);
        failed[0] = input;
        uint256 g = _challenge(c, _tree(failed));
        uint256 k = _bisect(g, mine, _tree(failed));
        require(k == 1, "the failing step");
        _prove(g, k, failed, _tree(failed));
        require(game.games(g).winner == CHALLENGER, "a step that reverts with a named error has failed");
        require(game.claims(c).status == InferenceClaims.Status.Rejected, "rejected");
    }
}
