"""The ``ledger`` command (Typer + rich)."""
