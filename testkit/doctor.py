"""What the doctor's tests share: a bot wired per the README, the settings as environment
variables (secrets long enough that the doctor shows their last 4 characters), and a run of
the real command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence

import pytest

from rasa_zendesk import cli

KEY_SECRET = "ks-" + "k" * 24 + "9f1e"
WEBHOOK_SECRET = "wh-" + "w" * 24 + "7c2d"
SETTINGS = {
    "ZENDESK_SUBDOMAIN": "acme",
    "ZENDESK_APP_ID": "app_doctor",
    "ZENDESK_KEY_ID": "key_doctor",
    "ZENDESK_KEY_SECRET": KEY_SECRET,
    "ZENDESK_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "ZENDESK_TICKET_WEBHOOK_SECRET": "tk-" + "t" * 24 + "3b8a",
}


def use_settings(monkeypatch: pytest.MonkeyPatch, settings: Mapping[str, str]) -> None:
    """Exactly these ZENDESK_* variables, as the servers would have them."""
    import os

    for name in list(os.environ):
        if name.startswith("ZENDESK_"):
            monkeypatch.delenv(name)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)


def copy_bot(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("models", ".rasa", "__pycache__"))
    return target


def doctor(capsys: pytest.CaptureFixture, args: Sequence[str]) -> Dict[str, Any]:
    """`rasa-zendesk doctor --json ...`: its findings and exit status."""
    status = cli.main(["doctor", "--json", *args])
    out = capsys.readouterr().out
    found = json.loads(out)
    found["status"] = status
    found["raw"] = out
    return found


def failed(found: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [c for c in found["checks"] if c["status"] == "FAIL"]


def statuses(found: Dict[str, Any], area: str) -> List[str]:
    return [c["status"] for c in found["checks"] if c["area"] == area]
