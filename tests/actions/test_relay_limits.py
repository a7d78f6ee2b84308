"""Bounded work per message (issue 21, item 9): the files and text of one user message are
capped (`max_files_per_message`, `max_text_per_message`), the rest named to the user in one
notice; a file is held once (a spooled temporary file) and streamed to SunCo."""

from __future__ import annotations

import tracemalloc
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.actions import sunco_session, user_files
from rasa_zendesk.settings import ActionLimits, SettingsError, Sources
from testkit.action_calls import responses, run_action, user
from testkit.action_emulator import Zendesk, handed_off, handled_through
from testkit.user_files import Platform, uploads

pytestmark = pytest.mark.timeout(60)

SENDER = "telegram-4242"  # the sender of `handed_off`
MB = 1024 * 1024


async def run(executor: ActionExecutor, turns: List[Any]) -> Dict[str, Any]:
    return await run_action(executor, constants.ACTION_RELAY, SENDER, turns)


def left_out(result: Dict[str, Any]) -> List[str]:
    return [
        r["left_out"] for r in result["responses"] if r["response"] == constants.UTTER_MESSAGE_CUT
    ]


async def test_files_past_the_limit_are_left_out_and_named_in_one_notice(
    zendesk: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_MAX_FILES_PER_MESSAGE", "2")
    turns, _, before = await handed_off(zendesk, executor)
    names = ["a.png", "b.png", "c.pdf", "d.pdf"]
    attachments = [
        {"type": "file", "url": f"https://files.example.org/{name}", "name": name} for name in names
    ]
    refused = [{"name": "e.mov", "reason": "it is too large for Telegram"}]
    metadata = {"attachments": attachments, constants.USER_ATTACHMENTS_REFUSED_KEY: refused}
    turns += user("four files", "inform", metadata=metadata)

    result = await run(executor, turns)

    assert left_out(result) == [
        "2 files (c.pdf, d.pdf) (at most 2 files and 20000 characters a message)"
    ]
    # The channel's refusal costs nothing: it is still named, not counted.
    assert [r["file"] for r in result["responses"] if r.get("file")] == ["e.mov"]
    assert handled_through(result) == turns[-1].message_id
    posted = [c["body"]["content"] for c in zendesk.api_calls()[before:]]
    assert [c.get("altText") or c.get("text") for c in posted] == ["four files", "a.png", "b.png"]


async def test_text_past_the_limit_is_left_out_and_counted(
    zendesk: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_MAX_TEXT_PER_MESSAGE", "5000")
    turns, _, before = await handed_off(zendesk, executor)
    turns += user("x" * 5000 + "y" * 7000, "inform")

    result = await run(executor, turns)

    assert responses(result) == [constants.UTTER_MESSAGE_CUT]
    assert left_out(result) == [
        "the last 7000 characters (at most 10 files and 5000 characters a message)"
    ]
    posted = "".join(c["body"]["content"]["text"] for c in zendesk.api_calls()[before:])
    assert posted == "x" * 5000


def test_the_limits_and_their_settings() -> None:
    assert ActionLimits.read(Sources(environ={})) == ActionLimits(10, 20000, 30)
    given = {"max_files_per_message": "3", "max_text_per_message": "100", "action_deadline": "9"}
    assert ActionLimits.read(Sources(given, environ={})) == ActionLimits(3, 100, 9)
    env = {"ZENDESK_ACTION_DEADLINE": "12"}
    assert ActionLimits.read(Sources(environ=env)).deadline == 12
    for name, value in [("max_files_per_message", "0"), ("action_deadline", "soon")]:
        with pytest.raises(SettingsError, match=f"{name} .*ZENDESK_{name.upper()}"):
            ActionLimits.read(Sources({name: value}, environ={}))


async def test_a_file_is_held_once_and_streamed_to_zendesk(
    zendesk: Zendesk,
    executor: ActionExecutor,
    platform: Platform,  # noqa: F811 (the fixture)
) -> None:
    """A 20 MB file goes from the platform to SunCo without ever being whole in memory
    (before: a bytearray and its bytes copy, 40 MB and more). What the peak holds is mostly
    the socket's read buffers (the loopback platform sends faster than the relay reads)."""
    _, conversation_id, _ = await handed_off(zendesk, executor)
    data = b"%PDF-1.4\n" + b"\x00" * (20 * MB)
    url = platform.serve("/u/big.pdf", data, "application/pdf")
    file = user_files.UserFile(url, "file", "big.pdf")

    tracemalloc.start()
    try:
        content = await user_files.content_for(
            sunco_session.get_client(), conversation_id, file, 30.0
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert content.to_wire()["type"] == "file" and len(uploads(zendesk)) == 1
    assert peak < len(data), f"peak {peak / MB:.1f} MB for a 20 MB file"
