//! The ABI of the game contracts (`stdlib-sol/src/InferenceClaims.sol`, `SolidMLSteps.sol`)
//! and their sources, which the agent compiles and deploys.

use alloy_sol_types::sol;

/// `stdlib-sol/src/InferenceClaims.sol`.
pub const INFERENCE_CLAIMS_SOL: &str = include_str!("../../../stdlib-sol/src/InferenceClaims.sol");
/// `stdlib-sol/src/SolidMLSteps.sol`.
pub const SOLIDML_STEPS_SOL: &str = include_str!("../../../stdlib-sol/src/SolidMLSteps.sol");

sol! {
    /// `InferenceClaims`, as the agent uses it.
    #[derive(Debug, PartialEq)]
    interface IInferenceClaims {
        struct Claim {
            address steps;
            bytes32 modelId;
            bytes32 inputHash;
            bytes32 outputHash;
            bytes32 root;
            address claimer;
            uint64 deadline;
            uint32 openGames;
            uint8 status;
        }
        struct Game {
            uint256 claimId;
            address challenger;
            bytes32 claimerNode;
            bytes32 challengerNode;
            bytes32 claimerLeft;
            bytes32 claimerRight;
            uint64 index;
            uint8 level;
            uint8 turn;
            uint64 deadline;
            address winner;
        }
        event InputPosted(bytes32 indexed inputHash, bytes input);
        event Claimed(uint256 indexed claimId, bytes32 indexed modelId, address steps, bytes32 inputHash, bytes output, bytes32 root, address claimer);
        event Challenged(uint256 indexed claimId, uint256 indexed gameId, address challenger, bytes32 root);

        error UnknownModel(address steps);
        error ModelExists(address steps);
        error StepsIncomplete(bytes32 modelId);
        error InputNotPosted(bytes32 inputHash);
        error InputLength(uint256 expected, uint256 got);
        error WrongBond(uint256 expected, uint256 got);
        error BadInputProof();
        error BadOutputProof();
        error UnknownClaim(uint256 claimId);
        error ClaimNotPending(uint256 claimId);
        error ChallengeWindowClosed(uint256 claimId, uint256 deadline);
        error ChallengeWindowOpen(uint256 claimId, uint256 deadline);
        error GamesOpen(uint256 claimId, uint256 open);
        error SameRoot();
        error UnknownGame(uint256 gameId);
        error NotYourTurn(uint256 gameId, address caller, uint8 turn);
        error WrongChildren(uint256 gameId);
        error WrongStep(uint256 gameId, uint256 expected, uint256 got);
        error NotProofPhase(uint256 gameId);
        error BadLeafProof(uint256 position, uint256 leaf);
        error LeafCount(uint256 expected, uint256 got);
        error DeadlineNotReached(uint256 gameId, uint256 deadline);
        error DeadlinePassed(uint256 gameId, uint256 deadline);
        error StepOutOfGas(uint256 gameId, uint256 step);
        error NotAbandonable(uint256 gameId);
        error GameIsOver(uint256 gameId);
        error NotFinal(uint256 claimId);
        error NothingToWithdraw();

        function claimBond() external view returns (uint256);
        function challengeBond() external view returns (uint256);
        function models(address steps) external view returns (bytes32 modelId, uint64 stepCount, uint64 inputBytes, uint8 depth);
        function registerModel(address steps) external;
        function postInput(bytes input) external returns (bytes32);
        function inputPosted(bytes32 inputHash) external view returns (bool);
        function claim(address steps, bytes32 inputHash, bytes output, bytes32 root, bytes32[] inputProof, bytes32[] outputProof) external payable returns (uint256);
        function claims(uint256 claimId) external view returns (Claim memory);
        function claimCount() external view returns (uint256);
        function finalize(uint256 claimId) external;
        function result(uint256 claimId) external view returns (bytes memory);
        function challenge(uint256 claimId, bytes32 root) external payable returns (uint256);
        function games(uint256 gameId) external view returns (Game memory);
        function gameCount() external view returns (uint256);
        function revealClaimer(uint256 gameId, bytes32 left, bytes32 right) external;
        function revealChallenger(uint256 gameId, bytes32 left, bytes32 right) external;
        function proveStep(uint256 gameId, uint256 step, bytes[] leaves, bytes32[][] proofs) external;
        function timeout(uint256 gameId) external;
        function withdraw() external;
        function abandon(uint256 gameId) external;
        function balanceOf(address who) external view returns (uint256);
    }

    /// `SolidMLSteps`, as the agent uses it.
    #[derive(Debug, PartialEq)]
    interface ISolidMLStepsRegistry {
        error NotDeployer(address caller);
        error WrongStep(uint256 step, address at);
        error AllStepsAdded();
        error NoSuchStep(uint256 step);
        function add(address[] next) external;
        function complete() external view returns (bool);
        function MODEL_ID() external view returns (bytes32);
        function STEP_COUNT() external view returns (uint256);
        function INPUT_BYTES() external view returns (uint256);
        function step(uint256 k) external view returns (address);
    }

    /// One step contract, as the agent checks it.
    #[derive(Debug, PartialEq)]
    interface ISolidMLStep {
        function reads() external view returns (uint256[] memory);
        function runStep(bytes[] leaves) external view returns (bytes memory);
    }
}

/// The claim status `InferenceClaims` stores (`Status`).
pub mod status {
    /// Open to challenges or games.
    pub const PENDING: u8 = 1;
    /// Final.
    pub const FINAL: u8 = 2;
    /// Rejected by a lost game.
    pub const REJECTED: u8 = 3;
}

/// Whose move a game waits for (`Turn`).
pub mod turn {
    /// The claimer reveals.
    pub const CLAIMER: u8 = 0;
    /// The challenger reveals.
    pub const CHALLENGER: u8 = 1;
    /// One step is left: its proof.
    pub const PROOF: u8 = 2;
    /// Settled.
    pub const OVER: u8 = 3;
}
