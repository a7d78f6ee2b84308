"""The example bot's `actions` package is all a bot author writes: the actions get registered."""

from __future__ import annotations

from typing import Callable

from rasa_zendesk import constants
from rasa_zendesk.actions import (
    ActionZendeskEndHandoff,
    ActionZendeskHandoff,
    ActionZendeskLeaveMessage,
    ActionZendeskRelay,
)
from testkit.action_emulator import bot_package_executor


def test_actions_package_registers_the_four_actions() -> None:
    executor = bot_package_executor()
    registered = {name: type(f.__self__) for name, f in executor.actions.items()}
    assert registered[constants.ACTION_HANDOFF] is ActionZendeskHandoff
    assert registered[constants.ACTION_RELAY] is ActionZendeskRelay
    assert registered[constants.ACTION_END_HANDOFF] is ActionZendeskEndHandoff
    assert registered[constants.ACTION_LEAVE_MESSAGE] is ActionZendeskLeaveMessage


def test_a_configuring_subclass_replaces_the_default(configured: Callable[..., type]) -> None:
    """A bot author configures an action by subclassing it next to the import."""
    acme_handoff = configured(ActionZendeskHandoff, bot_display_name="Acme Assistant")
    executor = bot_package_executor()
    assert type(executor.actions[constants.ACTION_HANDOFF].__self__) is acme_handoff
