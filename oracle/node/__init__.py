"""The oracle committee node (``oracle run``): reads cycles from the chain, computes and approves results.

Modules: :mod:`~oracle.node.chainview` (chain reads, event decoding, result hashing),
:mod:`~oracle.node.history` (carried obligations), :mod:`~oracle.node.compute` (cycle -> result),
:mod:`~oracle.node.committee` (approval), :mod:`~oracle.node.runner` (the loop),
:mod:`~oracle.node.metrics`, :mod:`~oracle.node.logging`.
"""
