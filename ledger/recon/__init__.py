"""Reconciliation reports over the SQL mirror: cycle, balances, statement, three-way, proof.

Every report states the block it reflects (the mirror's checkpoint, or the block asked for), so an
auditor can re-check each figure against the chain's views at that block without trusting the
indexer; Merkle proofs are in @openzeppelin/merkle-tree's format and verify with its own code.
"""
