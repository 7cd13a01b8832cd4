"""How a console script ends: one line per error, a traceback only when asked for.

Both ``ledger`` and ``oracle`` run their Typer app through :func:`run_app`, so an operator sees the
same thing from either: a :class:`~ledger.errors.LedgerError` (bad input, unreachable node,
refused transaction) is one ``error: ...`` line and exit status 1; Ctrl-C is ``aborted`` and 130;
bad arguments show the usage and exit 2; anything unexpected is one line naming the exception and
asking for ``--verbose``, with the traceback logged at DEBUG. Rich's own exception printer is never
used: it prints every frame's local variables, signing keys and passwords included.
"""

from __future__ import annotations

import logging

import click
import typer
from rich.console import Console
from rich.markup import escape

from ledger.errors import LedgerError

log = logging.getLogger(__name__)

#: Typer >= 0.20 raises its vendored click's exceptions (``typer.TyperException``), older Typer click's.
_USAGE_ERRORS: tuple[type[Exception], ...] = (
    getattr(typer, "TyperException", click.ClickException),
    click.ClickException,
)


def run_app(app: typer.Typer, err: Console | None = None, args: list[str] | None = None) -> None:
    """Run ``app`` as a console script (on ``args``, default ``sys.argv[1:]``) and exit with its
    status (never returns)."""
    err = err or Console(stderr=True)
    try:
        code = app(args=args, standalone_mode=False)
    except LedgerError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        raise SystemExit(130) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except _USAGE_ERRORS as exc:  # bad arguments, or no arguments to a command group: show the help
        exc.show()  # type: ignore[attr-defined]
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        err.print(
            f"[bold red]error:[/] internal error ({type(exc).__name__}: {escape(str(exc))}); "
            "rerun with --verbose for the traceback",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)
