"""Talking to any EVM JSON-RPC endpoint.

* :mod:`ledger.chain.client`: the web3 client, transaction sending and revert decoding;
* :mod:`ledger.chain.hub`: typed calls of the SettlementHub;
* :mod:`ledger.chain.abi`: the hub's ABI, event topics and error selectors;
* :mod:`ledger.chain.jsonrpc`: plain JSON-RPC without web3, and ``eth_getLogs`` over adaptive ranges
  (what the indexer and the oracle read events with).

Nothing is imported here, so that a reader of plain JSON-RPC does not load web3.
"""
