"""The settlement protocol, as pure code every role shares: no chain, no database, no files.

* :mod:`~ledger.protocol.types`: the on-chain enumerations (participant kinds, cycle statuses,
  obligation kinds, the netting :class:`~ledger.protocol.types.Strategy`);
* :mod:`~ledger.protocol.references`: reference and wallet-id text -> on-chain bytes;
* :mod:`~ledger.protocol.record`: the obligation record and its codec (canonical record, event);
* :mod:`~ledger.protocol.commitments`: submissions hash, input and carry commitments;
* :mod:`~ledger.protocol.result`: the clearing result and its hash;
* :mod:`~ledger.protocol.netting`: the netting engine with gridlock resolution;
* :mod:`~ledger.protocol.proofs`: the Merkle leaf, roots and proofs (``@openzeppelin/merkle-tree``);
* :mod:`~ledger.protocol.clearing`: clear a cycle, then compute its roots — the computation the
  oracle node posts, the indexer verifies and tests predict;
* :mod:`~ledger.protocol.money`, :mod:`~ledger.protocol.hashing`: integer money for people, keccak256.

Everything here is deterministic: the same chain data gives the same bytes on every machine.
"""
