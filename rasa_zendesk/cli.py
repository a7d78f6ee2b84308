"""The `rasa-zendesk` command: `rasa-zendesk emulator [options]` runs the local emulator."""

import argparse
import sys
from typing import Optional, Sequence


def build_parser() -> argparse.ArgumentParser:
    from rasa_zendesk.emulator.config import add_arguments

    parser = argparse.ArgumentParser(
        prog="rasa-zendesk", description="Tools for the Rasa <-> Zendesk agent handoff."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    emulator = commands.add_parser(
        "emulator",
        help="run the local Zendesk Conversations emulator with its agent console",
        description="Local Zendesk Conversations (Sunshine Conversations v2) emulator.",
    )
    add_arguments(emulator)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the console script."""
    try:
        args = build_parser().parse_args(argv)
        if args.command == "emulator":
            from rasa_zendesk.emulator.config import config_from_args
            from rasa_zendesk.emulator.server import run

            return run(config_from_args(args), args.quiet)
    except ImportError as error:  # the emulator's extra is not installed: say how to get it
        print(f"rasa-zendesk: {error}", file=sys.stderr)
        return 2
    return 2  # argparse already refused anything else


if __name__ == "__main__":
    raise SystemExit(main())
