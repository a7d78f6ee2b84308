"""The gestures that reach the bot during a handoff: commands and the plugin's own choices,
never words the bot's NLU may misread."""

from __future__ import annotations

from typing import Optional

import pytest

from rasa_zendesk.handoff import gestures
from testkit.ordinary_messages import ORDINARY_MESSAGES


@pytest.mark.parametrize("text", ["/end", "/END", " /end_handoff ", "/end_handoff@1.0"])
def test_the_end_commands(text: str) -> None:
    assert gestures.is_end_command(text)


@pytest.mark.parametrize("text", ["/restart", " /Restart ", "/restart@1.0"])
def test_the_restart_command(text: str) -> None:
    assert gestures.is_restart(text)


@pytest.mark.parametrize("text", [*ORDINARY_MESSAGES, "/ending", "end", "restart", None, ""])
def test_words_are_no_gesture(text: Optional[str]) -> None:
    """Ordinary words, and anything short of the exact command, go to the agent."""
    assert not gestures.is_end_command(text)
    assert not gestures.is_restart(text)


@pytest.mark.parametrize(
    ("text", "chosen"),
    [
        ("/wait", gestures.KEEP_WAITING),
        ("Keep waiting!", gestures.KEEP_WAITING),
        ("/leave_message", gestures.LEAVE_MESSAGE),
        ("leave a message", gestures.LEAVE_MESSAGE),
        ("/bot", gestures.BACK_TO_BOT),
        ("Back to the bot.", gestures.BACK_TO_BOT),
        ("3", gestures.BACK_TO_BOT),
        ("I want to go back", None),
        ("no", None),
        ("/end", None),
    ],
)
def test_the_choices_offered_when_no_agent_came(text: str, chosen: Optional[str]) -> None:
    assert gestures.choice(text) == chosen
