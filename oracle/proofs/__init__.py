"""OpenZeppelin-compatible Merkle trees for clearing results.

:mod:`oracle.proofs.merkle` is a Python ``StandardMerkleTree`` (``@openzeppelin/merkle-tree`` 1.0.x:
same roots, proofs and ``standard-v1`` JSON dumps) plus fast hash-level builders;
:mod:`oracle.proofs.leaves` is the project's obligation leaf (``ObligationLeaf.sol``) and the
settled/deferred roots of a clearing result. An empty set's root is ``bytes32(0)``.
"""

from oracle.proofs.leaves import (
    OBLIGATION_LEAF_ENCODING,
    BackgroundLeafHashes,
    ObligationLeafFields,
    ObligationTree,
    checksum_address,
    encode_obligation,
    obligation_leaf_hash,
    obligation_leaf_hashes,
    obligation_leaf_values,
    obligation_roots,
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
    root_from_leaf_hashes,
    standard_leaf_hash,
    standard_node_hash,
    verify_proof,
)

__all__ = [
    "OBLIGATION_LEAF_ENCODING",
    "ZERO_ROOT",
    "BackgroundLeafHashes",
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
