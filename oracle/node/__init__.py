"""The oracle committee node (``oracle run``): reads cycles from the chain, computes and approves results.

Modules: :mod:`~oracle.node.chainview` (chain reads and event decoding), :mod:`~oracle.node.history`
(carried obligations), :mod:`~oracle.node.committee` (approval), :mod:`~oracle.node.runner` (the
loop), :mod:`~oracle.node.metrics`. The clearing itself is :func:`ledger.protocol.clearing.compute_result`,
shared with the indexer's verification; the log format is :mod:`ledger.logs`.
"""
