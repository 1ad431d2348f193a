//! Private models: who may call a model, read from `ModelRegistry`'s storage
//! (`stdlib-sol/src/ModelRegistry.sol`, `docs/precompile.md` §"Private models and the model
//! registry"). The rule, for a 32-byte modelId `id` and the address `caller` that called the
//! precompile:
//!
//! ```text
//! isAllowed(id, caller) = privateModel[id] == 0 || caller == publisherOf[id] || allowed[id][caller] != 0
//! privateModel[id]      at keccak256(id ++ uint256(0))
//! allowed[id][caller]   at keccak256(pad32(caller) ++ keccak256(id ++ uint256(1)))
//! publisherOf[id]       at keccak256(id ++ uint256(2))          (address in the low 20 bytes)
//! ```
//!
//! The host reads the words from the state the call runs in ([`is_allowed`] takes the reader),
//! so this module stays independent of any EVM. A refused call reverts with
//! [`PrecompileError::NotAllowed`](crate::PrecompileError::NotAllowed) (code 11) at the
//! early-failure price ([`SolidMlPrecompile::refuse`](crate::SolidMlPrecompile::refuse)).

use solidml_spec::keccak256;

/// The registry's address on the devnode (`MODEL_REGISTRY` in `ModelRegistry.sol`).
pub const MODEL_REGISTRY: [u8; 20] = {
    let mut a = [0u8; 20];
    a[18] = 0x50;
    a[19] = 0xDE;
    a
};

fn mapping_slot(key: &[u8; 32], slot: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(key);
    buf[32..].copy_from_slice(slot);
    keccak256(&buf)
}

fn word(n: u8) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[31] = n;
    w
}

fn pad32(address: &[u8; 20]) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(address);
    w
}

/// Slot of `privateModel[id]`.
pub fn private_slot(id: &[u8; 32]) -> [u8; 32] {
    mapping_slot(id, &word(0))
}

/// Slot of `allowed[id][caller]`.
pub fn allowed_slot(id: &[u8; 32], caller: &[u8; 20]) -> [u8; 32] {
    mapping_slot(&pad32(caller), &mapping_slot(id, &word(1)))
}

/// Slot of `publisherOf[id]`.
pub fn publisher_slot(id: &[u8; 32]) -> [u8; 32] {
    mapping_slot(id, &word(2))
}

/// Whether `caller` may run model `id`, reading the registry's storage words through `read`
/// (slot → value; at most three reads, none when the model is public).
pub fn is_allowed(id: &[u8; 32], caller: &[u8; 20], mut read: impl FnMut(&[u8; 32]) -> [u8; 32]) -> bool {
    if read(&private_slot(id)) == [0u8; 32] {
        return true;
    }
    let publisher = read(&publisher_slot(id));
    if publisher[12..] == caller[..] {
        return true;
    }
    read(&allowed_slot(id, caller)) != [0u8; 32]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn slots_follow_solidity_mapping_rules() {
        // keccak256(id ++ uint256(0)) for id = 0x00…01 (checked against solc by
        // stdlib-sol/test/ModelRegistry.t.sol's vm.load tests, which use the same formulas)
        let mut id = [0u8; 32];
        id[31] = 1;
        let mut buf = [0u8; 64];
        buf[31] = 1;
        assert_eq!(private_slot(&id), keccak256(&buf));
        buf[63] = 2;
        assert_eq!(publisher_slot(&id), keccak256(&buf));
    }

    #[test]
    fn the_rule_private_publisher_allowed() {
        let id = [7u8; 32];
        let publisher = [1u8; 20];
        let friend = [2u8; 20];
        let stranger = [3u8; 20];
        let mut storage: HashMap<[u8; 32], [u8; 32]> = HashMap::new();
        fn read(s: &HashMap<[u8; 32], [u8; 32]>) -> impl FnMut(&[u8; 32]) -> [u8; 32] + '_ {
            move |slot| s.get(slot).copied().unwrap_or_default()
        }
        assert!(is_allowed(&id, &stranger, read(&storage)), "a model the registry does not know is public");
        storage.insert(private_slot(&id), word(1));
        storage.insert(publisher_slot(&id), pad32(&publisher));
        storage.insert(allowed_slot(&id, &friend), word(1));
        assert!(is_allowed(&id, &publisher, read(&storage)));
        assert!(is_allowed(&id, &friend, read(&storage)));
        assert!(!is_allowed(&id, &stranger, read(&storage)));
    }
}
