"""The ``oracle`` command: ``oracle net`` (offline clearing) and ``oracle run`` (committee node).

Each subcommand module owns a Typer app; :mod:`oracle.cli.main` merges them into one command.
"""
