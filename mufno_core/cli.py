"""The ``mufno`` command line: one subcommand per job, each in the module that owns the job.

Each command module defines ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mufno_core import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("mufno_core.data.cli", "generate a data set (Burgers, Darcy, Navier–Stokes) as HDF5"),
    "sweep": ("mufno_core.sweep.cli", "run a resumable hyperparameter sweep"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mufno", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"mufno {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
        sub.choices[name].set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
