"""``python -m ledger.cli`` runs the ``ledger`` command."""

from ledger.cli.main import run

run()
