"""``python -m oracle run ...`` = ``oracle run ...`` (how the devnet starts its background nodes)."""

from oracle.cli.main import main

main()
