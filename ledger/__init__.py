"""Bank-node, operator and auditor tooling for the permissioned settlement ledger.

Layers, from the bottom up: ``types`` (pydantic models shared by everything), ``config`` and
``keys``, ``chain`` (JSON-RPC client, ABI and revert decoding), ``build`` and ``deploy``,
``devnet``, ``submit`` (bank-node submission), ``index`` (chain -> SQL mirror), ``recon``
(reconciliation reports), ``api`` (read-only auditor API) and ``cli`` on top.
"""

__version__ = "0.1.0"
