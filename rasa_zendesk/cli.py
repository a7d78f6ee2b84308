"""The `rasa-zendesk` command: `init` adds the handoff to a bot, `emulator` runs the local
emulator, `doctor` checks a bot's handoff setup, `report` summarises the handoffs in its
tracker store."""

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Optional, Sequence


def build_parser() -> argparse.ArgumentParser:
    from rasa_zendesk.emulator.config import EMULATOR_EPILOG, add_arguments

    parser = argparse.ArgumentParser(
        prog="rasa-zendesk", description="Tools for the Rasa <-> Zendesk agent handoff."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    emulator = commands.add_parser(
        "emulator",
        help="run the local Zendesk Conversations emulator with its agent console",
        description="Local Zendesk Conversations (Sunshine Conversations v2) emulator.",
        epilog=EMULATOR_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(emulator)
    _project_command(
        commands,
        "init",
        "add the handoff to a bot: domain, NLU, actions, channel, action endpoint, policy",
        "Adds what the bot lacks and never rewrites what you wrote; prints what it changed "
        "and what is left for you. A second run changes nothing; a file it cannot parse "
        "stops it with nothing changed.",
    )
    _add_doctor(commands)
    _add_report(commands)
    return parser


def _project_command(
    commands: argparse._SubParsersAction, name: str, summary: str, description: str
) -> argparse.ArgumentParser:
    """A command about a bot's project folder (`--project DIR`)."""
    parser = commands.add_parser(name, help=summary, description=description)
    parser.add_argument(
        "--project",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the bot's project folder (default: the current one)",
    )
    return parser


def _add_doctor(commands: argparse._SubParsersAction) -> None:
    doctor = _project_command(
        commands,
        "doctor",
        "check the bot, the settings, Zendesk and the Rasa server for the handoff",
        "Checks the handoff's setup; each line PASS, WARN or FAIL with the fix. Exit status 0 "
        "only when nothing FAILs. Reads the settings the servers read (credentials.yml, "
        "ZENDESK_* variables).",
    )
    doctor.add_argument("--offline", action="store_true", help="do not ask Zendesk")
    doctor.add_argument(
        "--public-url",
        metavar="URL",
        help="the Rasa server's address as Zendesk calls it, e.g. https://bot.example.com",
    )
    doctor.add_argument(
        "--rasa-url", metavar="URL", help="a running Rasa server to try, e.g. http://localhost:5005"
    )
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON (CI)")
    doctor.add_argument(
        "--actions", default="actions", metavar="PACKAGE", help="the action server's package"
    )
    doctor.add_argument(
        "--instances",
        type=int,
        metavar="N",
        help="how many Rasa instances serve the bot (the lock store must suit them)",
    )


def _add_report(commands: argparse._SubParsersAction) -> None:
    report = _project_command(
        commands,
        "report",
        "handoffs per day, why, waits and durations, from the bot's tracker store",
        "Reads the tracker store of the bot's endpoints.yml (SQL, Redis, ...), a batch at a "
        "time, and prints what a support lead asks about the handoffs.",
    )
    report.add_argument(
        "--endpoints", type=Path, metavar="FILE", help="default: endpoints.yml of the project"
    )
    report.add_argument(
        "--since", default="7d", help="how far back: 7d, 24h, 30m, 2w, or a date (2024-05-01)"
    )
    report.add_argument("--csv", action="store_true", help="print the per-day table as CSV")
    report.add_argument("--chart", type=Path, metavar="FILE.png", help="also draw a chart")


def _quiet_rasa() -> None:
    """Rasa's imports print TensorFlow and deprecation noise that is no finding of ours."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    try:  # Sanic's import puts a filter that shows DeprecationWarnings in front of ours
        import sanic  # noqa: F401
    except ImportError:  # not installed here: nothing to put in front of
        pass
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the console script."""
    try:
        args = build_parser().parse_args(argv)
        if args.command in ("doctor", "report", "init"):
            _quiet_rasa()
        if args.command == "init":
            import rasa_zendesk.init

            outcome = rasa_zendesk.init.run(args.project)
            rasa_zendesk.init.report(outcome, sys.stdout if outcome.status == 0 else sys.stderr)
            return outcome.status
        if args.command == "emulator":
            from rasa_zendesk.emulator.config import config_from_args
            from rasa_zendesk.emulator.server import run

            return run(config_from_args(args), args.quiet)
        if args.command == "doctor":
            from rasa_zendesk.ops import doctor

            options = doctor.DoctorOptions(
                project=args.project,
                offline=args.offline,
                public_url=args.public_url,
                rasa_url=args.rasa_url,
                actions=args.actions,
                instances=args.instances,
            )
            return doctor.run(options, as_json=args.json)
        if args.command == "report":
            from rasa_zendesk.ops.report import cli

            return cli.run(args)
    except ImportError as error:  # the emulator's extra is not installed: say how to get it
        print(f"rasa-zendesk: {error}", file=sys.stderr)
        return 2
    return 2  # argparse already refused anything else


if __name__ == "__main__":
    raise SystemExit(main())
