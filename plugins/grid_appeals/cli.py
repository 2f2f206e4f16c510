"""``grid-appeals`` command line: warehouse control, demo, simulate, backfill, reports.

Each feature area keeps its own sub-command in a ``command.py``-style module that exposes
``register(subparsers)``; this file only lists them, so areas do not edit each other's code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# modules exposing register(subparsers); missing ones (areas not built yet) are skipped
COMMAND_MODULES = (
    "grid_appeals.warehouse.command",
    "grid_appeals.airflow_command",
    "grid_appeals.demo",
    "grid_appeals.simulate.command",
    "grid_appeals.pipeline.command",
    "grid_appeals.text.command",
    "grid_appeals.evaluate.command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grid-appeals", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
