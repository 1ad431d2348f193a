// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Where the devnode places the registry at genesis (its runtime code, with empty storage).
address constant MODEL_REGISTRY = 0x00000000000000000000000000000000000050dE;

/// @title ModelRegistry: named, versioned models and who may run them.
/// @notice Model hosting on chain. A *name* (1..64 bytes of `[a-z0-9_-]`) belongs to whoever
///         registers it first; its owner publishes versions `major.minor`, each bound forever to a
///         modelId (the keccak256 of the model file, as the precompile takes it). The address that
///         first publishes a modelId becomes its *publisher*, who may make the model private and
///         allow callers; the SolidML precompile refuses to run a private model for a caller that
///         is not allowed (docs/precompile.md, "Private models and the model registry").
///
///         Versions: under a name they are strictly increasing in `(major, minor)` order
///         (`major` first, then `minor`): each publish must be greater than the latest one, so
///         `latest` is always the last published and no version can be inserted below it
///         (e.g. after 2.0 no 1.5). A published version is never changed or removed, even by the
///         owner, even to the same modelId (`VersionExists`). The first version may be any, 0.0
///         included.
///
/// @dev    STORAGE LAYOUT, a consensus interface: a native node (the devnode's precompile host)
///         reads the access-control state straight from this contract's storage, so the first
///         three slots are fixed and must never move (no inheritance, no variable before them):
///
///           slot 0  mapping(bytes32 modelId => bool)                       privateModel
///           slot 1  mapping(bytes32 modelId => mapping(address => bool))   allowed
///           slot 2  mapping(bytes32 modelId => address)                    publisherOf
///
///         With Solidity's mapping rule (`slot(m[k]) = keccak256(pad32(k) ++ pad32(slot(m)))`):
///
///           privateModel[id]     at keccak256(id ++ uint256(0))                                   value: 1 = private, 0 = public
///           allowed[id][caller]  at keccak256(pad32(caller) ++ keccak256(id ++ uint256(1)))       value: 1 = allowed, 0 = not
///           publisherOf[id]      at keccak256(id ++ uint256(2))                                   value: the address in the low 20 bytes, 0 = never published
///
///         where `id` is the 32-byte modelId, `uint256(n)` a 32-byte big-endian word and
///         `pad32(caller)` the address left-padded with zeros to 32 bytes (`abi.encode`). A bool
///         is stored as the word 0 or 1; a reader should treat any nonzero word as true.
///         `isAllowed(id, caller)` = `privateModel[id] == 0 || caller == publisherOf[id] ||
///         allowed[id][caller] != 0`, exactly what the node evaluates.
///
///         Slot 3 holds the names (`mapping(bytes32 keccak256(name) => Name)`); its layout is not
///         an interface.
///
///         Genesis placement: the node copies this contract's runtime code to `MODEL_REGISTRY`
///         with empty storage; no constructor runs. So the contract has no constructor, no
///         immutables and no initialised state: all-zero storage is the empty registry.
contract ModelRegistry {
    // ---- access-control state: slots 0, 1, 2 (fixed, read by the node; see @dev) ----

    /// Whether a model is private (slot 0).
    mapping(bytes32 modelId => bool) public privateModel;
    /// Callers the publisher has allowed to run a private model (slot 1).
    mapping(bytes32 modelId => mapping(address caller => bool)) public allowed;
    /// The address that first published a modelId (slot 2); zero if never published.
    mapping(bytes32 modelId => address) public publisherOf;

    // ---- names (slot 3; not read by the node) ----

    struct Version {
        uint32 major;
        uint32 minor;
        bytes32 modelId;
    }

    struct Name {
        address owner;
        Version[] versions;
        /// `(major << 32) | minor` → modelId; zero when that version was never published.
        mapping(uint64 key => bytes32) modelOf;
    }

    mapping(bytes32 nameHash => Name) internal _names;

    uint256 internal constant MAX_NAME_LENGTH = 64;

    // ---- events (one for every change of state) ----

    event NameRegistered(bytes32 indexed nameHash, string name, address indexed owner);
    event OwnershipTransferred(
        bytes32 indexed nameHash, string name, address indexed previousOwner, address indexed newOwner
    );
    event VersionPublished(bytes32 indexed nameHash, string name, uint32 major, uint32 minor, bytes32 indexed modelId);
    /// A modelId published for the first time: `publisher` controls its privacy from now on.
    event PublisherSet(bytes32 indexed modelId, address indexed publisher);
    event PublisherTransferred(bytes32 indexed modelId, address indexed previousPublisher, address indexed newPublisher);
    event PrivacySet(bytes32 indexed modelId, bool isPrivate);
    event AccessSet(bytes32 indexed modelId, address indexed caller, bool permitted);

    // ---- errors (one for every refusal) ----

    /// Not 1..64 bytes of `[a-z0-9_-]`.
    error InvalidName(string name);
    error NameTaken(string name, address owner);
    error UnknownName(string name);
    error NotOwner(string name, address caller);
    /// A zero new owner or publisher (it would lock the name or model forever).
    error ZeroAddress();
    /// The zero modelId is never a model (it marks an unpublished version).
    error ZeroModelId();
    error VersionExists(string name, uint32 major, uint32 minor, bytes32 modelId);
    error VersionNotIncreasing(string name, uint32 major, uint32 minor, uint32 latestMajor, uint32 latestMinor);
    error UnknownVersion(string name, uint32 major, uint32 minor);
    /// `latest` of a name that has no version yet.
    error NoVersions(string name);
    /// The modelId was first published by `publisher`, not by the caller.
    error ModelOwnedByOther(bytes32 modelId, address publisher);
    /// Only the modelId's publisher may change its privacy, access list or publisher (also
    /// raised for a modelId never published, whose publisher is zero).
    error NotPublisher(bytes32 modelId, address caller);

    // ---- names ----

    /// Claim `name` for the caller. Reverts `InvalidName`, `NameTaken`.
    function register(string calldata name) external {
        _checkName(name);
        Name storage n = _names[keccak256(bytes(name))];
        if (n.owner != address(0)) revert NameTaken(name, n.owner);
        n.owner = msg.sender;
        emit NameRegistered(keccak256(bytes(name)), name, msg.sender);
    }

    /// Hand `name` to `newOwner` (one step). Only the owner. Reverts `UnknownName`, `NotOwner`,
    /// `ZeroAddress`. The publisher of models already published under the name does not change
    /// (see `transferPublisher`).
    function transferOwnership(string calldata name, address newOwner) external {
        Name storage n = _owned(name);
        if (newOwner == address(0)) revert ZeroAddress();
        n.owner = newOwner;
        emit OwnershipTransferred(keccak256(bytes(name)), name, msg.sender, newOwner);
    }

    /// The owner of `name`; zero when nobody has registered it.
    function ownerOf(string calldata name) external view returns (address) {
        return _names[keccak256(bytes(name))].owner;
    }

    // ---- versions ----

    /// Bind version `major.minor` of `name` to `modelId`, forever. Only the name's owner, and
    /// only a version greater than the latest. The first publish of a modelId makes the caller
    /// its publisher. Reverts `UnknownName`, `NotOwner`, `ZeroModelId`, `VersionExists`,
    /// `VersionNotIncreasing`, `ModelOwnedByOther`.
    function publish(string calldata name, uint32 major, uint32 minor, bytes32 modelId) external {
        Name storage n = _owned(name);
        if (modelId == bytes32(0)) revert ZeroModelId();
        uint64 key = _key(major, minor);
        bytes32 existing = n.modelOf[key];
        if (existing != bytes32(0)) revert VersionExists(name, major, minor, existing);
        uint256 count = n.versions.length;
        if (count != 0) {
            Version storage last = n.versions[count - 1];
            if (key <= _key(last.major, last.minor)) {
                revert VersionNotIncreasing(name, major, minor, last.major, last.minor);
            }
        }
        address publisher = publisherOf[modelId];
        if (publisher == address(0)) {
            publisherOf[modelId] = msg.sender;
            emit PublisherSet(modelId, msg.sender);
        } else if (publisher != msg.sender) {
            revert ModelOwnedByOther(modelId, publisher);
        }
        n.modelOf[key] = modelId;
        n.versions.push(Version(major, minor, modelId));
        emit VersionPublished(keccak256(bytes(name)), name, major, minor, modelId);
    }

    /// The modelId of `name` version `major.minor`. Reverts `UnknownName`, `UnknownVersion`.
    function modelOf(string calldata name, uint32 major, uint32 minor) external view returns (bytes32 modelId) {
        modelId = _known(name).modelOf[_key(major, minor)];
        if (modelId == bytes32(0)) revert UnknownVersion(name, major, minor);
    }

    /// The greatest (= last published) version of `name`. Reverts `UnknownName`, `NoVersions`.
    function latest(string calldata name) external view returns (uint32 major, uint32 minor, bytes32 modelId) {
        Name storage n = _known(name);
        uint256 count = n.versions.length;
        if (count == 0) revert NoVersions(name);
        Version storage v = n.versions[count - 1];
        return (v.major, v.minor, v.modelId);
    }

    /// Every version of `name`, in publishing (= increasing) order; empty when none. Reverts
    /// `UnknownName`.
    function versions(string calldata name) external view returns (Version[] memory) {
        return _known(name).versions;
    }

    // ---- private models ----

    /// Make `modelId` private (or public again). Only its publisher. Reverts `NotPublisher`.
    function setPrivate(bytes32 modelId, bool isPrivate) external {
        _onlyPublisher(modelId);
        privateModel[modelId] = isPrivate;
        emit PrivacySet(modelId, isPrivate);
    }

    /// Allow (or disallow) `caller` to run private `modelId`; the list is kept while the model is
    /// public and applies when it is private. Only its publisher. Reverts `NotPublisher`.
    function allow(bytes32 modelId, address caller, bool permitted) external {
        _onlyPublisher(modelId);
        allowed[modelId][caller] = permitted;
        emit AccessSet(modelId, caller, permitted);
    }

    /// Hand the control of `modelId` (privacy, access list, publishing it under more versions)
    /// to `newPublisher`, e.g. with the name it was published under. Only its publisher.
    /// Reverts `NotPublisher`, `ZeroAddress`.
    function transferPublisher(bytes32 modelId, address newPublisher) external {
        _onlyPublisher(modelId);
        if (newPublisher == address(0)) revert ZeroAddress();
        publisherOf[modelId] = newPublisher;
        emit PublisherTransferred(modelId, msg.sender, newPublisher);
    }

    /// Whether `caller` may run `modelId` through the precompile: the model is not private, or
    /// `caller` is its publisher, or the publisher allowed `caller`. The precompile's `caller` is
    /// the address that called it (a contract, when a contract calls the precompile).
    function isAllowed(bytes32 modelId, address caller) external view returns (bool) {
        return !privateModel[modelId] || caller == publisherOf[modelId] || allowed[modelId][caller];
    }

    // ---- internals ----

    function _key(uint32 major, uint32 minor) private pure returns (uint64) {
        return (uint64(major) << 32) | uint64(minor);
    }

    function _known(string calldata name) private view returns (Name storage n) {
        n = _names[keccak256(bytes(name))];
        if (n.owner == address(0)) revert UnknownName(name);
    }

    function _owned(string calldata name) private view returns (Name storage n) {
        n = _known(name);
        if (n.owner != msg.sender) revert NotOwner(name, msg.sender);
    }

    function _onlyPublisher(bytes32 modelId) private view {
        address publisher = publisherOf[modelId];
        if (publisher == address(0) || publisher != msg.sender) revert NotPublisher(modelId, msg.sender);
    }

    function _checkName(string calldata name) private pure {
        bytes calldata b = bytes(name);
        if (b.length == 0 || b.length > MAX_NAME_LENGTH) revert InvalidName(name);
        for (uint256 i; i < b.length; ++i) {
            bytes1 c = b[i];
            if (!((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "_" || c == "-")) {
                revert InvalidName(name);
            }
        }
    }
}
