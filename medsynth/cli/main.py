"""The ``medsynth`` command. Thin: parse arguments, call the library, print where outputs are.

Every :class:`~medsynth.core.errors.MedsynthError` is shown as one clear message with exit code 2;
``medsynth --debug ...`` shows the traceback instead. On any error (or Ctrl-C, or SIGTERM) every run
directory the command opened is marked ``failed`` with the reason. Heavy libraries are imported
inside commands so that ``medsynth --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer

from medsynth import __version__
from medsynth.cli import common, translate
from medsynth.cli import schema as schema_cli
from medsynth.cli import tabular as tabular_cli
from medsynth.cli.audit_dp import audit_dp_cmd
from medsynth.cli.demo import demo
from medsynth.cli.evaluate import audit_app, evaluate_app
from medsynth.cli.image import image_app
from medsynth.cli.io_commands import convert, phantoms
from medsynth.cli.runs import runs

app = typer.Typer(
    name="medsynth",
    help=(
        "Synthetic medical data you can use: 3D CT/MR synthesis, MRI->CT translation, "
        "differentially private synthetic EHR tables, and privacy/utility audits of any synthetic data."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"medsynth {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
) -> None:
    """medsynth: synthetic medical data and its privacy audit."""
    common.STATE.debug = debug


app.command(name="demo")(demo)
app.command(name="convert")(convert)
app.command(name="phantoms")(phantoms)
app.command(name="runs")(runs)
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(audit_app, name="audit")
audit_app.command(name="dp")(audit_dp_cmd)
app.add_typer(translate.app, name="translate")
app.add_typer(image_app, name="image")
app.add_typer(tabular_cli.app, name="tabular")
app.add_typer(schema_cli.app, name="schema")


def _terminate(signum: int, frame: object) -> None:
    from medsynth.core.runtime import request_stop

    reason = f"interrupted by signal {signum} (SIGTERM)"
    request_stop(reason)  # training loops check it each step, should this exception be swallowed
    raise KeyboardInterrupt(reason)


def _mark_runs_failed(exc: BaseException) -> None:
    """Record the error in every run directory this command opened and did not finish."""
    from medsynth.core.rundir import fail_open_runs

    if isinstance(exc, typer.Exit) and not exc.exit_code:
        return
    if isinstance(exc, KeyboardInterrupt):
        reason = str(exc) or "interrupted"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    fail_open_runs(reason)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``medsynth`` console script."""
    import signal
    import threading

    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
    handle_term = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    if handle_term:
        signal.signal(signal.SIGTERM, _terminate)  # a plain `kill` marks the run failed instead of leaving it running
    try:
        return _run(argv)
    finally:
        if handle_term:
            from medsynth.core.runtime import clear_stop

            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            clear_stop()


def _run(argv: list[str] | None) -> int:
    from medsynth.core.errors import MedsynthError
    from medsynth.core.runtime import check_stop

    try:
        try:
            # With standalone_mode=False click returns typer.Exit's code instead of raising it.
            result = app(args=argv, standalone_mode=False)
            check_stop()  # a SIGTERM whose exception was swallowed: the command is not a success
        except BaseException as exc:
            _mark_runs_failed(exc)
            raise
    except MedsynthError as exc:
        if common.STATE.debug:
            raise
        common.say(f"error: {exc}", fg=typer.colors.RED, err=True)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except typer.TyperException as exc:  # usage errors: unknown command, bad option value
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        return int(getattr(exc, "exit_code", 2))
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
