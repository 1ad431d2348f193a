//! The trace commitment: a keccak256 Merkle tree over the steps' outputs, the same hashes
//! `InferenceClaims.sol` checks (docs/verification.md §Commitment).
//!
//! * A leaf commits to one step's output bytes `b`: `leaf(b) = keccak256(0x00 ‖ keccak256(b))`.
//!   Hashing `keccak256(b)` again lets the contract derive the input step's leaf from a claim's
//!   `inputHash` and the output step's from `keccak256(output)` without the bytes.
//! * An inner node: `node(l, r) = keccak256(0x01 ‖ l ‖ r)`; the prefixes keep a leaf from ever
//!   passing for a node (RFC 6962's rule).
//! * The tree has `2^depth` leaves, `depth = ⌈log2(steps)⌉` (at least 1): the steps' leaves in
//!   step order, then zero words (`bytes32(0)`) up to the power of two.
//! * Level `0` is the leaves, level `depth` the root. The subtree at level `L` holding leaf `j`
//!   is number `j >> L` of that level.

use solidml_spec::keccak256;

/// A 32-byte hash.
pub type Hash = [u8; 32];

/// The leaf of a step whose output bytes hash to `bytes_hash` (`keccak256(output)`).
pub fn leaf_of_hash(bytes_hash: &Hash) -> Hash {
    let mut b = [0u8; 33];
    b[1..].copy_from_slice(bytes_hash);
    keccak256(&b)
}

/// The leaf of a step with output `bytes`.
pub fn leaf(bytes: &[u8]) -> Hash {
    leaf_of_hash(&keccak256(bytes))
}

/// An inner node over its two children.
pub fn node(left: &Hash, right: &Hash) -> Hash {
    let mut b = [0u8; 65];
    b[0] = 1;
    b[1..33].copy_from_slice(left);
    b[33..].copy_from_slice(right);
    keccak256(&b)
}

/// `⌈log2(n)⌉`, at least 1: the depth of a tree over `n` leaves.
pub fn depth_for(n: usize) -> u32 {
    let mut d = 1;
    while (1usize << d) < n {
        d += 1;
    }
    d
}

/// A complete tree, every level kept (a verifier answers bisection rounds from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// `levels[0]`: the `2^depth` leaves; `levels[depth]`: the root alone.
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// The tree over `leaves` (padded with zero words to `2^depth_for(len)`).
    pub fn new(leaves: Vec<Hash>) -> Tree {
        let depth = depth_for(leaves.len());
        let mut level = leaves;
        level.resize(1 << depth, [0; 32]);
        let mut levels = vec![level];
        for _ in 0..depth {
            let below = levels.last().expect("one level at least");
            levels.push(below.chunks_exact(2).map(|p| node(&p[0], &p[1])).collect());
        }
        Tree { levels }
    }

    /// Number of levels above the leaves.
    pub fn depth(&self) -> u32 {
        self.levels.len() as u32 - 1
    }

    /// The root: the trace commitment.
    pub fn root(&self) -> Hash {
        self.levels[self.levels.len() - 1][0]
    }

    /// Node `index` of `level` (level 0: the leaves).
    pub fn at(&self, level: u32, index: usize) -> Hash {
        self.levels[level as usize][index]
    }

    /// The two children of node `index` at `level` (`level ≥ 1`): what a party reveals in a
    /// bisection round.
    pub fn children(&self, level: u32, index: usize) -> (Hash, Hash) {
        let below = &self.levels[level as usize - 1];
        (below[2 * index], below[2 * index + 1])
    }

    /// Siblings of leaf `j` from level 0 up to level `up` (exclusive): they prove the leaf
    /// against the subtree at level `up` that holds it.
    pub fn proof(&self, j: usize, up: u32) -> Vec<Hash> {
        (0..up as usize).map(|l| self.levels[l][(j >> l) ^ 1]).collect()
    }
}

/// The root of the subtree of height `proof.len()` holding leaf `j`, recomputed from the leaf
/// and its siblings (what the contract does).
pub fn root_from_proof(leaf: &Hash, j: usize, proof: &[Hash]) -> Hash {
    proof.iter().enumerate().fold(*leaf, |h, (l, s)| if (j >> l) & 1 == 0 { node(&h, s) } else { node(s, &h) })
}

/// The level at which the path of leaf `j` leaves that of leaf `k` (`j < k`): the highest bit
/// where they differ. Leaf `j` lies in the left subtree at that level whose hash both parties
/// agreed on when the bisection went right there.
pub fn split_level(j: usize, k: usize) -> u32 {
    debug_assert!(j < k);
    usize::BITS - (j ^ k).leading_zeros() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_recompute_every_subtree() {
        let leaves: Vec<Hash> = (0..5u8).map(|i| leaf(&[i])).collect();
        let t = Tree::new(leaves.clone());
        assert_eq!(t.depth(), 3);
        assert_eq!(t.at(0, 7), [0; 32]);
        for (j, l) in leaves.iter().enumerate() {
            assert_eq!(root_from_proof(l, j, &t.proof(j, 3)), t.root());
            for up in 0..=3 {
                assert_eq!(root_from_proof(l, j, &t.proof(j, up)), t.at(up, j >> up));
            }
        }
        // a wrong index or leaf does not verify
        assert_ne!(root_from_proof(&leaves[1], 2, &t.proof(1, 3)), t.root());
        assert_ne!(root_from_proof(&leaves[2], 1, &t.proof(1, 3)), t.root());
    }

    #[test]
    fn depth_and_split_levels() {
        assert_eq!([1, 2, 3, 4, 5, 1024, 1025].map(depth_for), [1, 1, 2, 2, 3, 10, 11]);
        assert_eq!(split_level(0, 1), 0);
        assert_eq!(split_level(1, 2), 1);
        assert_eq!(split_level(3, 4), 2);
        assert_eq!(split_level(4, 5), 0);
        let (l, r) = Tree::new(vec![leaf(b"a"), leaf(b"b")]).children(1, 0);
        assert_eq!(node(&l, &r), Tree::new(vec![leaf(b"a"), leaf(b"b")]).root());
    }

    #[test]
    fn leaves_are_prefixed() {
        // keccak256(0x00 ‖ keccak256("")), a fixed vector the Solidity side also checks
        let empty = keccak256(&[]);
        assert_eq!(leaf(&[]), leaf_of_hash(&empty));
        assert_ne!(leaf(&[]), empty);
    }
}
