"""``python -m oracle.node run ...`` = ``oracle run ...`` (used for the devnet's background processes)."""

from oracle.cli import app

app()
