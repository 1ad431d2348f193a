// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ISolidMLStep, ISolidMLSteps} from "./SolidMLSteps.sol";

/// @title InferenceClaims: optimistic inference results, settled by bisection over the model's
///        steps and one exact re-execution in the EVM.
/// @notice docs/verification.md is the protocol. In short:
///
///   * A model is registered by its steps registry (`registerModel`); claims name the registry,
///     and consumers the registries they trust.
///   * The input's bytes are posted first (`postInput`, to the log): verifiers re-run from them.
///   * A claimer posts `(steps registry, inputHash, output, root)` with a bond: `root` commits to every
///     step's output bytes (a keccak256 Merkle tree, `leaf(b) = keccak256(0x00 ‖ keccak256(b))`,
///     `node(l, r) = keccak256(0x01 ‖ l ‖ r)`, zero leaves up to a power of two). The claim
///     proves that leaf 0 is the input (`leaf = keccak256(0x00 ‖ inputHash)`) and the last
///     step's leaf is the output.
///   * Within the challenge window anyone may challenge with a bond and their own root. Each
///     game bisects the two trees: per round the claimer reveals its two children of the
///     current node, then the challenger its two; the walk goes left where the left children
///     differ, else right (the left subtree is then agreed). After `depth` rounds one leaf `k`
///     remains where they differ, with every leaf before it agreed.
///   * `proveStep` re-executes step `k` with its step contract on the leaves it reads, each
///     proven against the agreed subtrees; the claimer wins if its leaf equals the result.
///     Step 0 is the input (its leaf follows from the claim), steps past the plan are zero
///     leaves. A step whose kernels revert with a named error has *failed*: its leaf, and that
///     of every step after it, is the leaf of no bytes; a claim that the model fails on an input
///     claims the empty output.
///   * A party that misses its move's deadline loses (`timeout`); in the proof phase the
///     burden is the challenger's. A late move is refused (`DeadlinePassed`). The loser's
///     bond goes to the winner; a lost game rejects the claim (half the claim bond to that
///     challenger, half burned). After the window, with no game open, the claim is final (`finalize`).
///
///   Every transaction is bounded in gas: a reveal is two hashes, a proof one step plus `depth`
///   hashes per leaf read. A step's gas is bounded by the plan's limits, and `solidml game
///   register` measures every step contract and refuses a model with a step over 10M gas.
contract InferenceClaims {
    // ---------------------------------------------------------------- parameters

    /// Seconds after a claim during which it can be challenged.
    uint256 public immutable challengeWindow;
    /// Seconds each move of a game may take.
    uint256 public immutable roundTimeout;
    /// Wei a claimer bonds.
    uint256 public immutable claimBond;
    /// Wei a challenger bonds.
    uint256 public immutable challengeBond;

    // ---------------------------------------------------------------- state

    /// A registered model: a steps registry, keyed by its address (consumers name the registry
    /// they trust; a registration cannot be squatted).
    struct Model {
        bytes32 modelId;
        uint64 stepCount;
        uint64 inputBytes;
        uint8 depth;
    }

    /// Where a claim stands.
    enum Status {
        None,
        Pending,
        Final,
        Rejected
    }

    /// One claimed inference.
    struct Claim {
        ISolidMLSteps steps;
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 outputHash;
        bytes32 root;
        address claimer;
        uint64 deadline;
        uint32 openGames;
        Status status;
    }

    /// Whose move a game waits for.
    enum Turn {
        Claimer,
        Challenger,
        Proof,
        Over
    }

    /// One bisection game between a claim and a challenger.
    struct Game {
        uint256 claimId;
        address challenger;
        bytes32 claimerNode;
        bytes32 challengerNode;
        bytes32 claimerLeft;
        bytes32 claimerRight;
        uint64 index;
        uint8 level;
        Turn turn;
        uint64 deadline;
        address winner;
    }

    /// Registered models by their steps registry.
    mapping(ISolidMLSteps => Model) public models;
    Claim[] private claims_;
    mapping(uint256 => bytes) private outputs;
    Game[] private games_;
    /// Per game and level, the left subtree both parties agreed on when the walk went right.
    mapping(uint256 => mapping(uint256 => bytes32)) private agreed;
    /// Wei each address can withdraw.
    mapping(address => uint256) public balanceOf;
    /// Length plus one of each input whose bytes were posted (`postInput`; 0: never): only
    /// those can be claimed, so that every verifier can re-run the model.
    mapping(bytes32 => uint256) private posted;
    /// Claim bonds burned (half of each rejected claim's: a claimer that challenges its own
    /// wrong claim still loses that half).
    uint256 public burned;
    /// The first final claim per (modelId, inputHash), plus one (0: none).
    mapping(bytes32 => mapping(bytes32 => uint256)) private finalClaim;

    // ---------------------------------------------------------------- events

    event InputPosted(bytes32 indexed inputHash, bytes input);
    event ModelRegistered(address indexed steps, bytes32 indexed modelId, uint256 stepCount, uint256 depth);
    event Claimed(
        uint256 indexed claimId, bytes32 indexed modelId, address steps, bytes32 inputHash, bytes output, bytes32 root, address claimer
    );
    event Challenged(uint256 indexed claimId, uint256 indexed gameId, address challenger, bytes32 root);
    event Revealed(uint256 indexed gameId, uint256 level, address by, bytes32 left, bytes32 right);
    event Narrowed(uint256 indexed gameId, uint256 level, uint256 index);
    event StepProven(uint256 indexed gameId, uint256 step, bytes32 leaf, address winner);
    event GameOver(uint256 indexed gameId, uint256 indexed claimId, address winner, bool byTimeout);
    event ClaimFinalized(uint256 indexed claimId, bytes32 indexed modelId, bytes32 inputHash, bytes32 outputHash);
    event ClaimRejected(uint256 indexed claimId, uint256 gameId);

    // ---------------------------------------------------------------- errors

    /// No model is registered with this steps registry.
    error UnknownModel(address steps);
    /// This steps registry is registered already.
    error ModelExists(address steps);
    /// The registry lacks step contracts.
    error StepsIncomplete(bytes32 modelId);
    /// No one posted the input's bytes: verifiers could not re-run the claim.
    error InputNotPosted(bytes32 inputHash);
    /// The posted input is not as long as the model's packed inputs.
    error InputLength(uint256 expected, uint256 got);
    /// The bond sent is not the one required.
    error WrongBond(uint256 expected, uint256 got);
    /// The input proof does not place `leaf(inputHash)` at leaf 0 of the root.
    error BadInputProof();
    /// The output proof does not place `leaf(keccak256(output))` at the last step of the root.
    error BadOutputProof();
    /// No claim with this id.
    error UnknownClaim(uint256 claimId);
    /// The claim is final or rejected.
    error ClaimNotPending(uint256 claimId);
    /// The claim can no longer be challenged.
    error ChallengeWindowClosed(uint256 claimId, uint256 deadline);
    /// The claim can still be challenged.
    error ChallengeWindowOpen(uint256 claimId, uint256 deadline);
    /// Games on the claim are still being played.
    error GamesOpen(uint256 claimId, uint256 open);
    /// A challenge must commit to a different trace.
    error SameRoot();
    /// No game with this id.
    error UnknownGame(uint256 gameId);
    /// The caller may not move now (`turn`: 0 claimer, 1 challenger, 2 proof, 3 over).
    error NotYourTurn(uint256 gameId, address caller, uint8 turn);
    /// The revealed children do not hash to the party's current node.
    error WrongChildren(uint256 gameId);
    /// The proof is for another step than the one the bisection reached.
    error WrongStep(uint256 gameId, uint256 expected, uint256 got);
    /// The game is not in its proof phase.
    error NotProofPhase(uint256 gameId);
    /// Leaf `position` of the proof does not verify against the agreed subtree (leaf index `leaf`).
    error BadLeafProof(uint256 position, uint256 leaf);
    /// The proof passes `got` leaves; the step reads `expected`.
    error LeafCount(uint256 expected, uint256 got);
    /// The step contract ran out of gas (or reverted without a reason): send more gas.
    error StepOutOfGas(uint256 gameId, uint256 step);
    /// The move's deadline has not passed.
    error DeadlineNotReached(uint256 gameId, uint256 deadline);
    /// The move's deadline has passed: the game can only end by `timeout`.
    error DeadlinePassed(uint256 gameId, uint256 deadline);
    /// Only a game's challenger takes its bond back, and only from a rejected claim.
    error NotAbandonable(uint256 gameId);
    /// The game is over.
    error GameIsOver(uint256 gameId);
    /// The claim is not final.
    error NotFinal(uint256 claimId);
    /// Nothing to withdraw.
    error NothingToWithdraw();

    constructor(uint256 challengeWindow_, uint256 roundTimeout_, uint256 claimBond_, uint256 challengeBond_) {
        challengeWindow = challengeWindow_;
        roundTimeout = roundTimeout_;
        claimBond = claimBond_;
        challengeBond = challengeBond_;
    }

    // ---------------------------------------------------------------- hashing (docs/verification.md §Commitment)

    /// The leaf of a step whose output bytes hash to `bytesHash`.
    function leafOf(bytes32 bytesHash) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x00), bytesHash));
    }

    /// An inner node.
    function nodeOf(bytes32 left, bytes32 right) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x01), left, right));
    }

    /// The root of the subtree of height `proof.length` holding leaf `index`.
    function rootOf(bytes32 leaf, uint256 index, bytes32[] calldata proof) public pure returns (bytes32 h) {
        h = leaf;
        for (uint256 l; l < proof.length; ++l) {
            h = (index >> l) & 1 == 0 ? nodeOf(h, proof[l]) : nodeOf(proof[l], h);
        }
    }

    // ---------------------------------------------------------------- models

    /// Register a model by its (complete) steps registry.
    function registerModel(ISolidMLSteps steps) external {
        if (models[steps].stepCount != 0) revert ModelExists(address(steps));
        bytes32 id = steps.MODEL_ID();
        if (!steps.complete()) revert StepsIncomplete(id);
        uint256 n = steps.STEP_COUNT();
        uint8 depth = 1;
        while ((uint256(1) << depth) < n) ++depth;
        models[steps] = Model(id, uint64(n), uint64(steps.INPUT_BYTES()), depth);
        emit ModelRegistered(address(steps), id, n, depth);
    }

    // ---------------------------------------------------------------- claims

    /// Publish an input (packed, as the precompile and `predictQ` take it) for claims: its
    /// bytes go to the log, where verifiers read them. Anyone may post (a requester, a
    /// claimer).
    function postInput(bytes calldata input) external returns (bytes32 inputHash) {
        inputHash = keccak256(input);
        posted[inputHash] = input.length + 1;
        emit InputPosted(inputHash, input);
    }

    /// Whether an input's bytes were posted.
    function inputPosted(bytes32 inputHash) external view returns (bool) {
        return posted[inputHash] != 0;
    }

    /// Post a claim: `output` is the packed model output for the input hashing to
    /// `inputHash`; `root` commits to the whole trace. Send `claimBond`.
    function claim(
        ISolidMLSteps steps,
        bytes32 inputHash,
        bytes calldata output,
        bytes32 root,
        bytes32[] calldata inputProof,
        bytes32[] calldata outputProof
    ) external payable returns (uint256 claimId) {
        Model memory m = models[steps];
        if (m.stepCount == 0) revert UnknownModel(address(steps));
        if (msg.value != claimBond) revert WrongBond(claimBond, msg.value);
        if (posted[inputHash] == 0) revert InputNotPosted(inputHash);
        if (posted[inputHash] != m.inputBytes + 1) revert InputLength(m.inputBytes, posted[inputHash] - 1);
        if (inputProof.length != m.depth || rootOf(leafOf(inputHash), 0, inputProof) != root) revert BadInputProof();
        bytes32 outputHash = keccak256(output);
        if (outputProof.length != m.depth || rootOf(leafOf(outputHash), m.stepCount - 1, outputProof) != root) {
            revert BadOutputProof();
        }
        claimId = claims_.length;
        claims_.push(
            Claim(
                steps, m.modelId, inputHash, outputHash, root, msg.sender, uint64(block.timestamp + challengeWindow), 0, Status.Pending
            )
        );
        outputs[claimId] = output;
        emit Claimed(claimId, m.modelId, address(steps), inputHash, output, root, msg.sender);
    }

    /// A claim.
    function claims(uint256 claimId) external view returns (Claim memory) {
        if (claimId >= claims_.length) revert UnknownClaim(claimId);
        return claims_[claimId];
    }

    /// Number of claims posted.
    function claimCount() external view returns (uint256) {
        return claims_.length;
    }

    /// Make a claim final: the window has passed and every game on it was won by the claimer.
    function finalize(uint256 claimId) external {
        Claim storage c = _pending(claimId);
        if (block.timestamp <= c.deadline) revert ChallengeWindowOpen(claimId, c.deadline);
        if (c.openGames != 0) revert GamesOpen(claimId, c.openGames);
        c.status = Status.Final;
        balanceOf[c.claimer] += claimBond;
        if (finalClaim[c.modelId][c.inputHash] == 0) finalClaim[c.modelId][c.inputHash] = claimId + 1;
        emit ClaimFinalized(claimId, c.modelId, c.inputHash, c.outputHash);
    }

    /// The output of a final claim.
    function result(uint256 claimId) external view returns (bytes memory) {
        if (claimId >= claims_.length) revert UnknownClaim(claimId);
        if (claims_[claimId].status != Status.Final) revert NotFinal(claimId);
        return outputs[claimId];
    }

    /// The output of the first final claim for `(modelId, inputHash)`; `found` false if none.
    function resultFor(bytes32 modelId, bytes32 inputHash) external view returns (bool found, bytes memory output) {
        uint256 id = finalClaim[modelId][inputHash];
        if (id == 0) return (false, "");
        return (true, outputs[id - 1]);
    }

    // ---------------------------------------------------------------- games

    /// Challenge a pending claim with a different trace commitment. Send `challengeBond`.
    function challenge(uint256 claimId, bytes32 root) external payable returns (uint256 gameId) {
        Claim storage c = _pending(claimId);
        if (block.timestamp > c.deadline) revert ChallengeWindowClosed(claimId, c.deadline);
        if (msg.value != challengeBond) revert WrongBond(challengeBond, msg.value);
        if (root == c.root) revert SameRoot();
        gameId = games_.length;
        games_.push(
            Game({
                claimId: claimId,
                challenger: msg.sender,
                claimerNode: c.root,
                challengerNode: root,
                claimerLeft: 0,
                claimerRight: 0,
                index: 0,
                level: models[c.steps].depth,
                turn: Turn.Claimer,
                deadline: uint64(block.timestamp + roundTimeout),
                winner: address(0)
            })
        );
        c.openGames += 1;
        emit Challenged(claimId, gameId, msg.sender, root);
    }

    /// A game.
    function games(uint256 gameId) external view returns (Game memory) {
        if (gameId >= games_.length) revert UnknownGame(gameId);
        return games_[gameId];
    }

    /// Number of games opened.
    function gameCount() external view returns (uint256) {
        return games_.length;
    }

    /// The left subtree agreed at `level` of a game (zero if the walk went left there).
    function agreedAt(uint256 gameId, uint256 level) external view returns (bytes32) {
        return agreed[gameId][level];
    }

    /// The claimer's move: the two children of its current node.
    function revealClaimer(uint256 gameId, bytes32 left, bytes32 right) external {
        Game storage g = _game(gameId);
        if (g.turn != Turn.Claimer || msg.sender != claims_[g.claimId].claimer) revert NotYourTurn(gameId, msg.sender, uint8(g.turn));
        if (block.timestamp > g.deadline) revert DeadlinePassed(gameId, g.deadline);
        if (nodeOf(left, right) != g.claimerNode) revert WrongChildren(gameId);
        (g.claimerLeft, g.claimerRight) = (left, right);
        g.turn = Turn.Challenger;
        g.deadline = uint64(block.timestamp + roundTimeout);
        emit Revealed(gameId, g.level, msg.sender, left, right);
    }

    /// The challenger's move: the two children of its current node; the walk descends.
    function revealChallenger(uint256 gameId, bytes32 left, bytes32 right) external {
        Game storage g = _game(gameId);
        if (g.turn != Turn.Challenger || msg.sender != g.challenger) revert NotYourTurn(gameId, msg.sender, uint8(g.turn));
        if (block.timestamp > g.deadline) revert DeadlinePassed(gameId, g.deadline);
        if (nodeOf(left, right) != g.challengerNode) revert WrongChildren(gameId);
        emit Revealed(gameId, g.level, msg.sender, left, right);
        uint8 level = g.level - 1;
        if (left == g.claimerLeft) {
            // the left halves agree: the first difference is on the right
            agreed[gameId][level] = left;
            (g.index, g.claimerNode, g.challengerNode) = (2 * g.index + 1, g.claimerRight, right);
        } else {
            (g.index, g.claimerNode, g.challengerNode) = (2 * g.index, g.claimerLeft, left);
        }
        g.level = level;
        g.turn = level == 0 ? Turn.Proof : Turn.Claimer;
        g.deadline = uint64(block.timestamp + roundTimeout);
        emit Narrowed(gameId, level, g.index);
    }

    /// Settle a game that reached one step by re-executing it: `leaves` are the bytes of the
    /// leaves the step reads (`reads()` of its contract), `proofs[i]` the siblings of leaf
    /// `i` up to the subtree both parties agreed on. Either party may call it.
    function proveStep(uint256 gameId, uint256 step, bytes[] calldata leaves, bytes32[][] calldata proofs) external {
        Game storage g = _game(gameId);
        if (g.turn != Turn.Proof) revert NotProofPhase(gameId);
        if (block.timestamp > g.deadline) revert DeadlinePassed(gameId, g.deadline);
        if (step != g.index) revert WrongStep(gameId, g.index, step);
        Claim storage c = claims_[g.claimId];
        Model memory m = models[c.steps];
        bytes32 correct;
        if (step == 0) {
            correct = leafOf(c.inputHash);
        } else if (step < m.stepCount) {
            ISolidMLStep s = c.steps.step(step);
            _checkLeaves(gameId, step, s.reads(), leaves, proofs);
            // a step whose kernels revert with a named error (the model's run-time errors, a
            // read leaf of a failed step: `LeafLength` on its empty bytes) has failed: its leaf is
            // that of no bytes, as every later step's. Out of gas reverts with no data: the
            // proof is refused, never judged.
            try s.runStep(leaves) returns (bytes memory out) {
                correct = leafOf(keccak256(out));
            } catch (bytes memory reason) {
                if (reason.length == 0) revert StepOutOfGas(gameId, step);
                correct = leafOf(keccak256(""));
            }
        }
        // past the plan: a zero leaf (`correct` stays 0)
        address winner = g.claimerNode == correct ? c.claimer : g.challenger;
        emit StepProven(gameId, step, correct, winner);
        _settle(gameId, winner, false);
    }

    /// End a game whose mover missed the deadline: it loses (in the proof phase, the
    /// challenger, whose burden the proof is).
    function timeout(uint256 gameId) external {
        Game storage g = _game(gameId);
        if (block.timestamp <= g.deadline) revert DeadlineNotReached(gameId, g.deadline);
        address winner = g.turn == Turn.Claimer ? g.challenger : claims_[g.claimId].claimer;
        _settle(gameId, winner, true);
    }

    /// The challenger of a game left open when another game rejected the claim takes its
    /// bond back.
    function abandon(uint256 gameId) external {
        Game storage g = _game(gameId);
        if (msg.sender != g.challenger || claims_[g.claimId].status != Status.Rejected) revert NotAbandonable(gameId);
        g.turn = Turn.Over;
        claims_[g.claimId].openGames -= 1;
        balanceOf[g.challenger] += challengeBond;
        emit GameOver(gameId, g.claimId, address(0), false);
    }

    /// Withdraw what the caller won or got back.
    function withdraw() external {
        uint256 amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        balanceOf[msg.sender] = 0;
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok, "transfer failed");
    }

    // ---------------------------------------------------------------- internals

    function _pending(uint256 claimId) private view returns (Claim storage c) {
        if (claimId >= claims_.length) revert UnknownClaim(claimId);
        c = claims_[claimId];
        if (c.status != Status.Pending) revert ClaimNotPending(claimId);
    }

    function _game(uint256 gameId) private view returns (Game storage g) {
        if (gameId >= games_.length) revert UnknownGame(gameId);
        g = games_[gameId];
        if (g.turn == Turn.Over) revert GameIsOver(gameId);
    }

    /// Each leaf read (`reads[i] < step`) proven against the subtree agreed where its path
    /// leaves the step's.
    function _checkLeaves(
        uint256 gameId,
        uint256 step,
        uint256[] memory reads,
        bytes[] calldata leaves,
        bytes32[][] calldata proofs
    ) private view {
        if (leaves.length != reads.length || proofs.length != reads.length) revert LeafCount(reads.length, leaves.length);
        for (uint256 i; i < reads.length; ++i) {
            uint256 j = reads[i];
            if (j >= step) revert BadLeafProof(i, j);
            uint256 level = _splitLevel(j, step);
            if (proofs[i].length != level || rootOf(leafOf(keccak256(leaves[i])), j, proofs[i]) != agreed[gameId][level]) {
                revert BadLeafProof(i, j);
            }
        }
    }

    /// The level where the paths of leaves `j < k` part: the highest bit where they differ.
    function _splitLevel(uint256 j, uint256 k) private pure returns (uint256 level) {
        uint256 x = j ^ k;
        while (x > 1) {
            x >>= 1;
            ++level;
        }
    }

    function _settle(uint256 gameId, address winner, bool byTimeout) private {
        Game storage g = games_[gameId];
        Claim storage c = claims_[g.claimId];
        g.turn = Turn.Over;
        g.winner = winner;
        c.openGames -= 1;
        if (winner == g.challenger) {
            balanceOf[winner] += challengeBond;
            if (c.status == Status.Pending) {
                // the first challenger to win takes half the claimer's bond; the other half is
                // burned, so that challenging one's own wrong claim does not pay it back
                c.status = Status.Rejected;
                uint256 reward = claimBond / 2;
                balanceOf[winner] += reward;
                burned += claimBond - reward;
                emit ClaimRejected(g.claimId, gameId);
            }
        } else {
            balanceOf[winner] += challengeBond;
        }
        emit GameOver(gameId, g.claimId, winner, byTimeout);
    }
}
