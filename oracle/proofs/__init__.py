"""OpenZeppelin-compatible Merkle trees for clearing results.

* :mod:`oracle.proofs.merkle`: a Python ``StandardMerkleTree`` (``@openzeppelin/merkle-tree`` 1.0.x:
  same roots, proofs and ``standard-v1`` JSON dumps) plus hash-level tree builders;
* :mod:`oracle.proofs.leaves`: the project's obligation leaf (``ObligationLeaf.sol``), its fast
  hashing, and obligation trees with proofs;
* :mod:`oracle.proofs.sorted_tree`: roots straight from sorted leaf hashes, no node array;
* :mod:`oracle.proofs.roots`: the settled/deferred roots of a clearing result, hashed by forked
  workers while the caller clears.

An empty set's root is ``bytes32(0)``.
"""

from oracle.proofs.leaves import (
    OBLIGATION_LEAF_ENCODING,
    ObligationLeafFields,
    ObligationTree,
    checksum_address,
    encode_obligation,
    obligation_leaf_hash,
    obligation_leaf_hashes,
    obligation_leaf_values,
)
from oracle.proofs.merkle import (
    ZERO_ROOT,
    EmptyTreeError,
    LeafTree,
    MultiProof,
    StandardMerkleTree,
    build_from_leaf_hashes,
    build_from_sorted_leaf_hashes,
    make_merkle_tree,
    process_multi_proof,
    process_proof,
    standard_leaf_hash,
    standard_node_hash,
    verify_proof,
)
from oracle.proofs.roots import ClearingRoots, obligation_roots, root_from_leaf_hashes

__all__ = [
    "OBLIGATION_LEAF_ENCODING",
    "ZERO_ROOT",
    "ClearingRoots",
    "EmptyTreeError",
    "LeafTree",
    "MultiProof",
    "ObligationLeafFields",
    "ObligationTree",
    "StandardMerkleTree",
    "build_from_leaf_hashes",
    "build_from_sorted_leaf_hashes",
    "checksum_address",
    "encode_obligation",
    "make_merkle_tree",
    "obligation_leaf_hash",
    "obligation_leaf_hashes",
    "obligation_leaf_values",
    "obligation_roots",
    "process_multi_proof",
    "process_proof",
    "root_from_leaf_hashes",
    "standard_leaf_hash",
    "standard_node_hash",
    "verify_proof",
]
