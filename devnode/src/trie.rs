//! State roots: the Merkle-Patricia trie of the accounts over their storage tries, as the
//! header's `stateRoot` field holds it, computed with caches so that mining stays cheap on a
//! long chain.
//!
//! **Why caches.** The EIP-2935 history contract gains a storage slot per block (up to 8,191),
//! so a storage trie built from scratch every block makes mining quadratic (on a 3,000-block
//! chain, 3 ms a block, 55% of it keccak).
//!
//! **Contract.** [`TrieCache::state_root`] equals the root of a trie built from scratch
//! (`alloy_trie::HashBuilder` over every account and every non-zero slot). It keeps:
//! * the storage root of each account whose storage did not change ([`TrieCache::forget`] drops
//!   one, [`TrieCache::clear`] all, after a change);
//! * `keccak256` of each slot number met (the history contract reuses its slots forever);
//! * for each account, its storage split into 16 buckets by the first nibble of the hashed
//!   slot, with each bucket's leaves and the hash of its subtrie. The storage root is then the
//!   branch node over the buckets' hashes, and only a bucket whose leaves differ from the
//!   cached ones is hashed again. A bucket's subtrie is the trie of its keys without their
//!   first nibble: the child the root branch refers to by hash (a storage node always encodes
//!   to 32 bytes or more, so it is never inlined). With fewer than two buckets in use the root
//!   is not a branch, and the storage trie is built whole.

use std::collections::HashMap;

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_trie::{
    HashBuilder, Nibbles, TrieAccount, TrieMask,
    nodes::{BranchNode, RlpNode},
};
use revm::database::AccountState;

use crate::chain::Db;

/// One bucket of a storage trie: its leaves (hashed slot, value; sorted) and its subtrie hash.
#[derive(Debug, Clone, Default)]
struct Bucket {
    leaves: Vec<(B256, U256)>,
    hash: B256,
}

/// The caches behind [`TrieCache::state_root`] (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct TrieCache {
    storage_roots: HashMap<Address, B256>,
    hashed_slots: HashMap<U256, B256>,
    buckets: HashMap<Address, Vec<Bucket>>,
}

impl TrieCache {
    /// The cached storage root of `address` is stale (its storage changed).
    pub fn forget(&mut self, address: &Address) {
        self.storage_roots.remove(address);
    }

    /// Every cached storage root is stale (the state was replaced or edited wholesale).
    pub fn clear(&mut self) {
        self.storage_roots.clear();
    }

    /// The state root of `state`.
    pub fn state_root(&mut self, state: &Db) -> B256 {
        let leaves = state
            .cache
            .accounts
            .iter()
            .filter(|(_, a)| !matches!(a.account_state, AccountState::NotExisting))
            .map(|(address, a)| {
                let storage_root = match self.storage_roots.get(address) {
                    Some(&root) => root,
                    None => {
                        let slots: Vec<(B256, U256)> = a
                            .storage
                            .iter()
                            .filter(|(_, v)| !v.is_zero())
                            .map(|(k, v)| (*self.hashed_slots.entry(*k).or_insert_with(|| keccak256(k.to_be_bytes::<32>())), *v))
                            .collect();
                        let root = storage_root(self.buckets.entry(*address).or_default(), slots);
                        self.storage_roots.insert(*address, root);
                        root
                    }
                };
                let account = TrieAccount { nonce: a.info.nonce, balance: a.info.balance, storage_root, code_hash: a.info.code_hash };
                (keccak256(address), alloy_rlp::encode(account))
            })
            .collect();
        trie_root(leaves)
    }
}

/// The root of the trie with `leaves` (any order), each key a whole 32-byte path.
fn trie_root(mut leaves: Vec<(B256, Vec<u8>)>) -> B256 {
    leaves.sort_unstable_by_key(|l| l.0);
    let mut hb = HashBuilder::default();
    for (k, v) in leaves {
        hb.add_leaf(Nibbles::unpack(k), &v);
    }
    hb.root()
}

/// The storage root over `slots` (hashed slot, non-zero value), reusing `buckets`' hashes
/// where their leaves are unchanged.
fn storage_root(buckets: &mut Vec<Bucket>, mut slots: Vec<(B256, U256)>) -> B256 {
    slots.sort_unstable_by_key(|s| s.0);
    let mut split: Vec<Vec<(B256, U256)>> = vec![vec![]; 16];
    for s in slots.iter() {
        split[(s.0[0] >> 4) as usize].push(*s);
    }
    if split.iter().filter(|b| !b.is_empty()).count() < 2 {
        buckets.clear();
        return trie_root(slots.into_iter().map(|(k, v)| (k, alloy_rlp::encode(v))).collect());
    }
    buckets.resize_with(16, Bucket::default);
    let mut mask = TrieMask::default();
    let mut stack = vec![];
    for (nibble, (leaves, bucket)) in split.into_iter().zip(buckets.iter_mut()).enumerate() {
        if leaves.is_empty() {
            *bucket = Bucket::default();
            continue;
        }
        if leaves != bucket.leaves {
            let mut hb = HashBuilder::default();
            for (k, v) in &leaves {
                hb.add_leaf(Nibbles::unpack(k).slice(1..), &alloy_rlp::encode(v));
            }
            *bucket = Bucket { hash: hb.root(), leaves };
        }
        mask.set_bit(nibble as u8);
        stack.push(RlpNode::word_rlp(&bucket.hash));
    }
    keccak256(alloy_rlp::encode(BranchNode::new(stack, mask)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_scratch(slots: &[(B256, U256)]) -> B256 {
        trie_root(slots.iter().filter(|s| !s.1.is_zero()).map(|(k, v)| (*k, alloy_rlp::encode(v))).collect())
    }

    #[test]
    fn bucketed_storage_roots_equal_the_whole_trie() {
        let mut buckets = vec![];
        let mut slots: Vec<(B256, U256)> = vec![];
        // 0 slots, 1, a few (maybe one bucket), then many; each step changes or adds slots
        for n in [0u64, 1, 2, 3, 17, 40, 300, 301] {
            while (slots.len() as u64) < n {
                let i = slots.len() as u64;
                slots.push((keccak256(U256::from(i).to_be_bytes::<32>()), U256::from(i * 7 + 1)));
            }
            if n > 10 {
                // an unchanged count with a changed value: one bucket differs
                slots[5].1 += U256::from(1);
            }
            assert_eq!(storage_root(&mut buckets, slots.clone()), from_scratch(&slots), "{n} slots");
            // again, from the cache alone
            assert_eq!(storage_root(&mut buckets, slots.clone()), from_scratch(&slots), "{n} slots, cached");
        }
        assert_eq!(storage_root(&mut vec![], vec![]), alloy_consensus::constants::EMPTY_ROOT_HASH);
    }

    #[test]
    fn all_slots_in_one_bucket_build_the_whole_trie() {
        // keys sharing their first nibble: the root is an extension, not a branch
        let slots: Vec<(B256, U256)> = (1..5u8)
            .map(|i| {
                let mut k = B256::ZERO;
                k[0] = 0x30 | i;
                (k, U256::from(i))
            })
            .collect();
        let mut buckets = vec![];
        assert_eq!(storage_root(&mut buckets, slots.clone()), from_scratch(&slots));
        assert!(buckets.is_empty());
    }
}
