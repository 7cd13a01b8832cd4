"""Test support (not shipped): devnets, a committee stand-in, the mirror scenario, oracle-node
helpers and a general OpenZeppelin Merkle tree, for the tests and the benchmarks.

* :mod:`tests.support.devnet`: a real anvil on a free port and freshly deployed hubs with the demo
  consortium;
* :mod:`tests.support.committee`: a stand-in for the oracle committee that settles cycles on a devnet;
* :mod:`tests.support.scenario`: a devnet scenario with every kind of event the mirror handles;
* :mod:`tests.support.mirror`: a throwaway PostgreSQL and a comparable dump of a mirror's contents;
* :mod:`tests.support.node`: oracle nodes against a devnet (threads, submissions, approvals);
* :mod:`tests.support.merkle`: ``StandardMerkleTree`` (``@openzeppelin/merkle-tree`` 1.0.x) in full:
  any leaf encoding, multiproofs, ``standard-v1`` dumps, to check the shipped obligation trees.

Nothing under ``ledger/`` or ``oracle/`` imports this package (``tests/test_architecture.py``).
"""
