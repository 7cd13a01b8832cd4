"""OpenZeppelin-compatible Merkle trees for clearing results.

* :mod:`ledger.protocol.proofs.merkle`: ``StandardMerkleTree`` (``@openzeppelin/merkle-tree`` 1.0.x) at the
  hash level: node hash, leaf order, node layout, proof checking;
* :mod:`ledger.protocol.proofs.leaves`: the project's obligation leaf (``ObligationLeaf.sol``), its fast
  hashing, and obligation trees with proofs;
* :mod:`ledger.protocol.proofs.sorted_tree`: roots straight from sorted leaf hashes, no node array;
* :mod:`ledger.protocol.proofs.roots`: the settled/deferred roots of a clearing result, hashed by forked
  workers while the caller clears.

An empty set's root is ``bytes32(0)``.
"""

from ledger.protocol.proofs.leaves import (
    OBLIGATION_LEAF_ENCODING,
    ObligationLeafFields,
    ObligationTree,
    checksum_address,
    encode_obligation,
    obligation_leaf_hash,
    obligation_leaf_hashes,
    obligation_leaf_values,
)
from ledger.protocol.proofs.merkle import (
    ZERO_ROOT,
    EmptyTreeError,
    LeafTree,
    build_from_leaf_hashes,
    build_from_sorted_leaf_hashes,
    process_proof,
    standard_node_hash,
)
from ledger.protocol.proofs.roots import ClearingRoots, obligation_roots, root_from_leaf_hashes

__all__ = [
    "OBLIGATION_LEAF_ENCODING",
    "ZERO_ROOT",
    "ClearingRoots",
    "EmptyTreeError",
    "LeafTree",
    "ObligationLeafFields",
    "ObligationTree",
    "build_from_leaf_hashes",
    "build_from_sorted_leaf_hashes",
    "checksum_address",
    "encode_obligation",
    "obligation_leaf_hash",
    "obligation_leaf_hashes",
    "obligation_leaf_values",
    "obligation_roots",
    "process_proof",
    "root_from_leaf_hashes",
    "standard_node_hash",
]
