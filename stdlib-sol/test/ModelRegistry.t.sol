// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ModelRegistry, MODEL_REGISTRY} from "../src/ModelRegistry.sol";

/// forge-std is not a dependency of stdlib-sol: the cheatcodes used here, declared as forge-std's
/// `Vm` declares them (same signatures, so the same selectors).
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function load(address target, bytes32 slot) external view returns (bytes32);
    function store(address target, bytes32 slot, bytes32 value) external;
    function etch(address target, bytes calldata code) external;
    function prank(address sender) external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter)
        external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

contract ModelRegistryTest {
    Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    ModelRegistry reg;
    address constant ALICE = address(0xA11CE);
    address constant BOB = address(0xB0B);
    address constant CAROL = address(0xCA401);
    bytes32 constant M1 = keccak256("model file 1");
    bytes32 constant M2 = keccak256("model file 2");
    bytes32 constant M3 = keccak256("model file 3");

    function setUp() public {
        reg = new ModelRegistry();
    }

    // ---- helpers ----

    function _register(address who, string memory name) internal {
        vm.prank(who);
        reg.register(name);
    }

    function _publish(address who, string memory name, uint32 major, uint32 minor, bytes32 id) internal {
        vm.prank(who);
        reg.publish(name, major, minor, id);
    }

    /// The documented slot formulas (ModelRegistry's NatSpec, docs/precompile.md), written out.
    function _privateSlot(bytes32 id) internal pure returns (bytes32) {
        return keccak256(abi.encode(id, uint256(0)));
    }

    function _allowedSlot(bytes32 id, address caller) internal pure returns (bytes32) {
        return keccak256(abi.encode(caller, keccak256(abi.encode(id, uint256(1)))));
    }

    function _publisherSlot(bytes32 id) internal pure returns (bytes32) {
        return keccak256(abi.encode(id, uint256(2)));
    }

    /// isAllowed as the native node evaluates it, from raw storage words only.
    function _nodeIsAllowed(address registry, bytes32 id, address caller) internal view returns (bool) {
        if (vm.load(registry, _privateSlot(id)) == bytes32(0)) return true;
        if (address(uint160(uint256(vm.load(registry, _publisherSlot(id))))) == caller) return true;
        return vm.load(registry, _allowedSlot(id, caller)) != bytes32(0);
    }

    // ---- names ----

    function test_register_sets_owner_and_emits() public {
        require(reg.ownerOf("digits") == address(0), "unregistered: zero owner");
        vm.expectEmit(true, true, true, true, address(reg));
        emit ModelRegistry.NameRegistered(keccak256("digits"), "digits", ALICE);
        _register(ALICE, "digits");
        require(reg.ownerOf("digits") == ALICE, "owner");
        require(reg.versions("digits").length == 0, "no versions yet");
    }

    function test_register_taken_reverts_NameTaken() public {
        _register(ALICE, "digits");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NameTaken.selector, "digits", ALICE));
        _register(BOB, "digits");
        // the owner itself cannot register it again either
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NameTaken.selector, "digits", ALICE));
        _register(ALICE, "digits");
        require(reg.ownerOf("digits") == ALICE, "owner unchanged");
    }

    function test_valid_names() public {
        string memory longest = "0123456789abcdefghijklmnopqrstuvwxyz-_0123456789abcdefghijklmnop"; // 64 bytes
        require(bytes(longest).length == 64, "fixture");
        _register(ALICE, longest);
        _register(ALICE, "a");
        _register(ALICE, "0");
        _register(ALICE, "-");
        _register(ALICE, "_");
        _register(ALICE, "resnet-8_v2");
        require(reg.ownerOf(longest) == ALICE && reg.ownerOf("resnet-8_v2") == ALICE, "registered");
    }

    function test_invalid_names_revert_InvalidName() public {
        string[11] memory bad = [
            "",
            "0123456789abcdefghijklmnopqrstuvwxyz-_0123456789abcdefghijklmnopq", // 65 bytes
            "Digits",
            "digits ",
            "dig.its",
            "dig/its",
            "dig:its",
            "`",
            "{",
            unicode"d\u00e9j\u00e0",
            "a\x00b"
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InvalidName.selector, bad[i]));
            _register(ALICE, bad[i]);
        }
    }

    function test_transferOwnership() public {
        _register(ALICE, "digits");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotOwner.selector, "digits", BOB));
        vm.prank(BOB);
        reg.transferOwnership("digits", BOB);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownName.selector, "nope"));
        vm.prank(ALICE);
        reg.transferOwnership("nope", BOB);
        vm.expectRevert(ModelRegistry.ZeroAddress.selector);
        vm.prank(ALICE);
        reg.transferOwnership("digits", address(0));

        vm.expectEmit(true, true, true, true, address(reg));
        emit ModelRegistry.OwnershipTransferred(keccak256("digits"), "digits", ALICE, BOB);
        vm.prank(ALICE);
        reg.transferOwnership("digits", BOB);
        require(reg.ownerOf("digits") == BOB, "new owner");

        // the old owner lost every right, the new one has them
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotOwner.selector, "digits", ALICE));
        _publish(ALICE, "digits", 1, 0, M1);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotOwner.selector, "digits", ALICE));
        vm.prank(ALICE);
        reg.transferOwnership("digits", ALICE);
        _publish(BOB, "digits", 1, 0, M1);
        require(reg.modelOf("digits", 1, 0) == M1 && reg.publisherOf(M1) == BOB, "published by new owner");
    }

    // ---- versions ----

    function test_publish_only_owner_of_known_name() public {
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownName.selector, "digits"));
        _publish(ALICE, "digits", 1, 0, M1);
        _register(ALICE, "digits");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotOwner.selector, "digits", BOB));
        _publish(BOB, "digits", 1, 0, M1);
        vm.expectRevert(ModelRegistry.ZeroModelId.selector);
        _publish(ALICE, "digits", 1, 0, bytes32(0));
        require(reg.versions("digits").length == 0 && reg.publisherOf(M1) == address(0), "nothing published");
    }

    function test_publish_emits_and_binds() public {
        _register(ALICE, "digits");
        vm.expectEmit(true, true, true, true, address(reg));
        emit ModelRegistry.PublisherSet(M1, ALICE);
        vm.expectEmit(true, true, true, true, address(reg));
        emit ModelRegistry.VersionPublished(keccak256("digits"), "digits", 1, 2, M1);
        _publish(ALICE, "digits", 1, 2, M1);
        require(reg.modelOf("digits", 1, 2) == M1, "modelOf");
        require(reg.publisherOf(M1) == ALICE, "publisherOf");

        // a modelId already published by the same publisher: no new PublisherSet, one event only
        vm.recordLogs();
        _publish(ALICE, "digits", 1, 3, M1);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        require(logs.length == 1, "only VersionPublished");
        require(logs[0].topics[0] == ModelRegistry.VersionPublished.selector, "VersionPublished topic");
        require(logs[0].topics[1] == keccak256("digits") && logs[0].topics[2] == M1, "indexed topics");
        (string memory name, uint32 major, uint32 minor) = abi.decode(logs[0].data, (string, uint32, uint32));
        require(keccak256(bytes(name)) == keccak256("digits") && major == 1 && minor == 3, "event data");
    }

    function test_version_is_immutable() public {
        _register(ALICE, "digits");
        _publish(ALICE, "digits", 1, 0, M1);
        // same version, other id
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.VersionExists.selector, "digits", 1, 0, M1));
        _publish(ALICE, "digits", 1, 0, M2);
        // same version, same id
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.VersionExists.selector, "digits", 1, 0, M1));
        _publish(ALICE, "digits", 1, 0, M1);
        // still bound after later versions, and after a transfer of the name
        _publish(ALICE, "digits", 2, 0, M2);
        vm.prank(ALICE);
        reg.transferOwnership("digits", BOB);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.VersionExists.selector, "digits", 1, 0, M1));
        _publish(BOB, "digits", 1, 0, M3);
        require(reg.modelOf("digits", 1, 0) == M1 && reg.modelOf("digits", 2, 0) == M2, "bindings unchanged");
        require(reg.versions("digits").length == 2, "two versions");
    }

    function test_versions_strictly_increasing() public {
        _register(ALICE, "digits");
        _publish(ALICE, "digits", 0, 0, M1); // the first version may be 0.0
        _publish(ALICE, "digits", 0, type(uint32).max, M1);
        _publish(ALICE, "digits", 1, 0, M1); // 1.0 > 0.4294967295: major first
        _publish(ALICE, "digits", 1, 1, M2);
        _publish(ALICE, "digits", 2, 0, M2);
        // below the latest, never published: not increasing
        vm.expectRevert(
            abi.encodeWithSelector(ModelRegistry.VersionNotIncreasing.selector, "digits", 1, 5, 2, 0)
        );
        _publish(ALICE, "digits", 1, 5, M3);
        vm.expectRevert(
            abi.encodeWithSelector(ModelRegistry.VersionNotIncreasing.selector, "digits", 0, 7, 2, 0)
        );
        _publish(ALICE, "digits", 0, 7, M3);
        // published ones: VersionExists (checked first), equal to the latest included
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.VersionExists.selector, "digits", 2, 0, M2));
        _publish(ALICE, "digits", 2, 0, M3);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.VersionExists.selector, "digits", 1, 1, M2));
        _publish(ALICE, "digits", 1, 1, M3);
        _publish(ALICE, "digits", 2, 1, M3);
        _publish(ALICE, "digits", type(uint32).max, type(uint32).max, M3);
        // nothing is above max.max
        vm.expectRevert(
            abi.encodeWithSelector(
                ModelRegistry.VersionNotIncreasing.selector,
                "digits",
                type(uint32).max,
                0,
                type(uint32).max,
                type(uint32).max
            )
        );
        _publish(ALICE, "digits", type(uint32).max, 0, M3);

        ModelRegistry.Version[] memory v = reg.versions("digits");
        require(v.length == 7, "seven versions");
        uint32[7] memory majors = [uint32(0), 0, 1, 1, 2, 2, type(uint32).max];
        uint32[7] memory minors = [uint32(0), type(uint32).max, 0, 1, 0, 1, type(uint32).max];
        bytes32[7] memory ids = [M1, M1, M1, M2, M2, M3, M3];
        for (uint256 i; i < 7; ++i) {
            require(v[i].major == majors[i] && v[i].minor == minors[i] && v[i].modelId == ids[i], "versions()");
            require(reg.modelOf("digits", majors[i], minors[i]) == ids[i], "modelOf");
        }
    }

    function testFuzz_version_order(uint32 aMaj, uint32 aMin, uint32 bMaj, uint32 bMin) public {
        _register(ALICE, "f");
        _publish(ALICE, "f", aMaj, aMin, M1);
        bool greater = bMaj > aMaj || (bMaj == aMaj && bMin > aMin);
        if (bMaj == aMaj && bMin == aMin) {
            vm.expectRevert(abi.encodeWithSelector(ModelRegistry.VersionExists.selector, "f", bMaj, bMin, M1));
        } else if (!greater) {
            vm.expectRevert(
                abi.encodeWithSelector(ModelRegistry.VersionNotIncreasing.selector, "f", bMaj, bMin, aMaj, aMin)
            );
        }
        _publish(ALICE, "f", bMaj, bMin, M2);
        (uint32 lMaj, uint32 lMin, bytes32 lId) = reg.latest("f");
        if (greater) require(lMaj == bMaj && lMin == bMin && lId == M2, "latest = b");
        else require(lMaj == aMaj && lMin == aMin && lId == M1, "latest = a");
    }

    function test_latest_modelOf_versions_errors() public {
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownName.selector, "digits"));
        reg.latest("digits");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownName.selector, "digits"));
        reg.modelOf("digits", 1, 0);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownName.selector, "digits"));
        reg.versions("digits");

        _register(ALICE, "digits");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NoVersions.selector, "digits"));
        reg.latest("digits");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownVersion.selector, "digits", 1, 0));
        reg.modelOf("digits", 1, 0);

        _publish(ALICE, "digits", 1, 0, M1);
        (uint32 major, uint32 minor, bytes32 id) = reg.latest("digits");
        require(major == 1 && minor == 0 && id == M1, "latest 1.0");
        _publish(ALICE, "digits", 1, 4, M2);
        (major, minor, id) = reg.latest("digits");
        require(major == 1 && minor == 4 && id == M2, "latest 1.4");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownVersion.selector, "digits", 1, 2));
        reg.modelOf("digits", 1, 2);
        // names are independent
        _register(BOB, "other");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NoVersions.selector, "other"));
        reg.latest("other");
    }

    // ---- publishers ----

    function test_modelId_publisher_is_first_publisher() public {
        _register(ALICE, "a-model");
        _register(ALICE, "a-copy");
        _register(BOB, "b-model");
        _publish(ALICE, "a-model", 1, 0, M1);
        // the same publisher may publish it under another name
        _publish(ALICE, "a-copy", 1, 0, M1);
        require(reg.modelOf("a-copy", 1, 0) == M1, "same id under two names");
        // someone else cannot claim it
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelOwnedByOther.selector, M1, ALICE));
        _publish(BOB, "b-model", 1, 0, M1);
        require(reg.versions("b-model").length == 0, "refused publish left nothing");
        require(reg.publisherOf(M1) == ALICE, "publisher unchanged");
        _publish(BOB, "b-model", 1, 0, M2);
        require(reg.publisherOf(M2) == BOB, "bob publishes his own");
    }

    function test_name_transfer_keeps_publisher_until_transferPublisher() public {
        _register(ALICE, "digits");
        _publish(ALICE, "digits", 1, 0, M1);
        vm.prank(ALICE);
        reg.transferOwnership("digits", BOB);
        require(reg.publisherOf(M1) == ALICE, "publisher does not follow the name");
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelOwnedByOther.selector, M1, ALICE));
        _publish(BOB, "digits", 1, 1, M1);

        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotPublisher.selector, M1, BOB));
        vm.prank(BOB);
        reg.transferPublisher(M1, BOB);
        vm.expectRevert(ModelRegistry.ZeroAddress.selector);
        vm.prank(ALICE);
        reg.transferPublisher(M1, address(0));

        vm.expectEmit(true, true, true, true, address(reg));
        emit ModelRegistry.PublisherTransferred(M1, ALICE, BOB);
        vm.prank(ALICE);
        reg.transferPublisher(M1, BOB);
        require(reg.publisherOf(M1) == BOB, "new publisher");
        _publish(BOB, "digits", 1, 1, M1);
        // the old publisher lost control
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotPublisher.selector, M1, ALICE));
        vm.prank(ALICE);
        reg.setPrivate(M1, true);
    }

    // ---- private models ----

    function test_private_and_allow_logic() public {
        _register(ALICE, "digits");
        _publish(ALICE, "digits", 1, 0, M1);
        // public: everyone
        require(reg.isAllowed(M1, BOB) && reg.isAllowed(M1, ALICE) && reg.isAllowed(M1, address(0)), "public");
        require(!reg.privateModel(M1), "not private");

        vm.expectEmit(true, true, true, true, address(reg));
        emit ModelRegistry.PrivacySet(M1, true);
        vm.prank(ALICE);
        reg.setPrivate(M1, true);
        require(reg.privateModel(M1), "private");
        require(reg.isAllowed(M1, ALICE), "publisher always allowed");
        require(!reg.isAllowed(M1, BOB) && !reg.isAllowed(M1, CAROL), "others refused");
        require(!reg.isAllowed(M1, address(0)), "zero address refused");

        vm.expectEmit(true, true, true, true, address(reg));
        emit ModelRegistry.AccessSet(M1, BOB, true);
        vm.prank(ALICE);
        reg.allow(M1, BOB, true);
        require(reg.allowed(M1, BOB), "allowed getter");
        require(reg.isAllowed(M1, BOB) && !reg.isAllowed(M1, CAROL), "bob only");
        // the allowance is per model
        _publish(ALICE, "digits", 1, 1, M2);
        vm.prank(ALICE);
        reg.setPrivate(M2, true);
        require(!reg.isAllowed(M2, BOB), "not for another model");

        vm.expectEmit(true, true, true, true, address(reg));
        emit ModelRegistry.AccessSet(M1, BOB, false);
        vm.prank(ALICE);
        reg.allow(M1, BOB, false);
        require(!reg.isAllowed(M1, BOB), "disallowed");

        // the list is kept while public and applies again when private
        vm.prank(ALICE);
        reg.allow(M1, CAROL, true);
        vm.expectEmit(true, true, true, true, address(reg));
        emit ModelRegistry.PrivacySet(M1, false);
        vm.prank(ALICE);
        reg.setPrivate(M1, false);
        require(reg.isAllowed(M1, BOB) && reg.isAllowed(M1, CAROL), "public again");
        vm.prank(ALICE);
        reg.setPrivate(M1, true);
        require(!reg.isAllowed(M1, BOB) && reg.isAllowed(M1, CAROL), "list applies again");
    }

    function test_private_and_allow_only_publisher() public {
        _register(ALICE, "digits");
        _publish(ALICE, "digits", 1, 0, M1);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotPublisher.selector, M1, BOB));
        vm.prank(BOB);
        reg.setPrivate(M1, true);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotPublisher.selector, M1, BOB));
        vm.prank(BOB);
        reg.allow(M1, BOB, true);
        // the name's new owner is not the publisher
        vm.prank(ALICE);
        reg.transferOwnership("digits", BOB);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotPublisher.selector, M1, BOB));
        vm.prank(BOB);
        reg.setPrivate(M1, true);
        // a modelId never published has no publisher: nobody controls it
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotPublisher.selector, M3, ALICE));
        vm.prank(ALICE);
        reg.setPrivate(M3, true);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotPublisher.selector, M3, address(0)));
        vm.prank(address(0));
        reg.allow(M3, ALICE, true);
        require(!reg.privateModel(M1) && !reg.allowed(M1, BOB) && !reg.privateModel(M3), "nothing changed");
    }

    function test_every_change_emits_one_event() public {
        vm.recordLogs();
        _register(ALICE, "digits");
        require(vm.getRecordedLogs().length == 1, "register");
        _publish(ALICE, "digits", 1, 0, M1);
        require(vm.getRecordedLogs().length == 2, "first publish of an id: PublisherSet + VersionPublished");
        _publish(ALICE, "digits", 1, 1, M1);
        require(vm.getRecordedLogs().length == 1, "publish");
        vm.prank(ALICE);
        reg.setPrivate(M1, true);
        require(vm.getRecordedLogs().length == 1, "setPrivate");
        vm.prank(ALICE);
        reg.allow(M1, BOB, true);
        require(vm.getRecordedLogs().length == 1, "allow");
        vm.prank(ALICE);
        reg.transferPublisher(M1, CAROL);
        require(vm.getRecordedLogs().length == 1, "transferPublisher");
        vm.prank(ALICE);
        reg.transferOwnership("digits", BOB);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        require(logs.length == 1 && logs[0].emitter == address(reg), "transferOwnership");
        require(
            logs[0].topics.length == 4 && logs[0].topics[2] == bytes32(uint256(uint160(ALICE)))
                && logs[0].topics[3] == bytes32(uint256(uint160(BOB))),
            "OwnershipTransferred topics"
        );
    }

    // ---- storage layout (read by the native node) ----

    function test_storage_slots_match_documented_formulas() public {
        _checkSlots(address(reg));
    }

    /// Genesis placement: the runtime code copied to 0x…50DE with empty storage, no constructor
    /// run, works as a deployed registry, with the same slots.
    function test_genesis_placement_runtime_code_only() public {
        require(MODEL_REGISTRY == address(0x50DE), "registry address");
        require(MODEL_REGISTRY.code.length == 0, "empty before placement");
        vm.etch(MODEL_REGISTRY, address(reg).code);
        reg = ModelRegistry(MODEL_REGISTRY);
        require(reg.ownerOf("digits") == address(0) && reg.isAllowed(M1, BOB), "empty registry");
        _checkSlots(MODEL_REGISTRY);
    }

    function _checkSlots(address r) internal {
        require(vm.load(r, _privateSlot(M1)) == bytes32(0), "fresh: public");
        require(vm.load(r, _publisherSlot(M1)) == bytes32(0), "fresh: no publisher");
        _register(ALICE, "digits");
        _publish(ALICE, "digits", 1, 0, M1);
        _publish(ALICE, "digits", 1, 1, M2);
        require(vm.load(r, _publisherSlot(M1)) == bytes32(uint256(uint160(ALICE))), "publisherOf slot");
        require(vm.load(r, _privateSlot(M1)) == bytes32(0), "public slot");
        require(_nodeIsAllowed(r, M1, BOB), "node: public");

        vm.prank(ALICE);
        reg.setPrivate(M1, true);
        require(vm.load(r, _privateSlot(M1)) == bytes32(uint256(1)), "privateModel slot = 1");
        require(vm.load(r, _privateSlot(M2)) == bytes32(0), "other model's slot untouched");
        require(!_nodeIsAllowed(r, M1, BOB) && _nodeIsAllowed(r, M1, ALICE), "node: private");

        vm.prank(ALICE);
        reg.allow(M1, BOB, true);
        require(vm.load(r, _allowedSlot(M1, BOB)) == bytes32(uint256(1)), "allowed slot = 1");
        require(vm.load(r, _allowedSlot(M1, CAROL)) == bytes32(0), "other caller's slot");
        require(vm.load(r, _allowedSlot(M2, BOB)) == bytes32(0), "other model's allowed slot");
        require(_nodeIsAllowed(r, M1, BOB) && !_nodeIsAllowed(r, M1, CAROL), "node: allowed");

        vm.prank(ALICE);
        reg.allow(M1, BOB, false);
        require(vm.load(r, _allowedSlot(M1, BOB)) == bytes32(0), "allowed slot cleared");
        vm.prank(ALICE);
        reg.transferPublisher(M1, CAROL);
        require(vm.load(r, _publisherSlot(M1)) == bytes32(uint256(uint160(CAROL))), "publisher slot moved");
        require(_nodeIsAllowed(r, M1, CAROL) && !_nodeIsAllowed(r, M1, ALICE), "node: new publisher");

        // and the other way: raw words written at the documented slots are what the contract reads
        vm.store(r, _privateSlot(M3), bytes32(uint256(1)));
        vm.store(r, _publisherSlot(M3), bytes32(uint256(uint160(BOB))));
        vm.store(r, _allowedSlot(M3, CAROL), bytes32(uint256(1)));
        require(reg.privateModel(M3) && reg.publisherOf(M3) == BOB && reg.allowed(M3, CAROL), "getters");
        require(reg.isAllowed(M3, BOB) && reg.isAllowed(M3, CAROL) && !reg.isAllowed(M3, ALICE), "isAllowed");
    }

    function testFuzz_isAllowed_agrees_with_node_reading(
        bytes32 id,
        address caller,
        bool makePrivate,
        bool allowCaller,
        bool callerIsPublisher
    ) public {
        if (id == bytes32(0) || caller == address(0) || caller == ALICE) return;
        _register(ALICE, "f");
        _publish(ALICE, "f", 1, 0, id);
        if (callerIsPublisher) {
            vm.prank(ALICE);
            reg.transferPublisher(id, caller);
        }
        address publisher = reg.publisherOf(id);
        vm.prank(publisher);
        reg.setPrivate(id, makePrivate);
        vm.prank(publisher);
        reg.allow(id, caller, allowCaller);
        bool want = !makePrivate || callerIsPublisher || allowCaller;
        require(reg.isAllowed(id, caller) == want, "isAllowed");
        require(_nodeIsAllowed(address(reg), id, caller) == want, "node reading");
        require(vm.load(address(reg), _privateSlot(id)) == bytes32(uint256(makePrivate ? 1 : 0)), "private slot");
        require(vm.load(address(reg), _allowedSlot(id, caller)) == bytes32(uint256(allowCaller ? 1 : 0)), "allowed slot");
        require(vm.load(address(reg), _publisherSlot(id)) == bytes32(uint256(uint160(publisher))), "publisher slot");
    }
}
