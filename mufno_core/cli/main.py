"""The ``mufno`` command line: one subcommand per job, each in the module that owns the job.

Each command module defines ``add_arguments(parser)`` and ``run(args) -> int``. Ctrl-C while the
commands are imported (torch: seconds) ends with exit code 130 and nothing printed; later, with one
line (a sweep says how to resume it).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence

from mufno_core import __version__, phases

COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("mufno_core.cli.data", "generate a data set (Burgers, Darcy, Navier–Stokes) as HDF5"),
    "sweep": ("mufno_core.cli.sweep", "run a resumable hyperparameter sweep"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``mufno`` parser; only ``command``'s module is imported and given its arguments (the
    sweep command imports torch, seconds that ``mufno data`` and ``mufno --help`` need not wait)."""
    parser = argparse.ArgumentParser(prog="mufno", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"mufno {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            module = importlib.import_module(module_name)
            module.add_arguments(command_parser)
            command_parser.set_defaults(run=module.run)
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first argument that is not an option (``mufno`` itself
    takes only ``--help`` and ``--version``), or None."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS else None


@contextlib.contextmanager
def interrupt_after() -> Iterator[None]:
    """Hold Ctrl-C back until the block has run, then raise KeyboardInterrupt.

    A KeyboardInterrupt raised while torch is imported can unwind through its C++ start-up code,
    which aborts the process ("terminate called after throwing … pybind11::error_already_set").
    Where SIGINT is ignored (an inherited SIG_IGN) or handled by someone else, nothing changes.
    """
    held: list[int] = []
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if held:
        raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    try:
        with interrupt_after():
            phases.reach("import")
            argv = sys.argv[1:] if argv is None else list(argv)
            parser = build_parser(chosen_command(argv))  # its command's imports: seconds
    except KeyboardInterrupt:  # before anything ran: nothing to report
        return 130
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except (ValueError, FileNotFoundError, OSError) as err:  # user errors: one clear line
        print(f"mufno {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mufno {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
