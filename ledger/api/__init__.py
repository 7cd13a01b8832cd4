"""The auditor API and page (read-only): ``ledger serve``."""
