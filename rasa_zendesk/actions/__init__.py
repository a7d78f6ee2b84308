"""The rasa-sdk actions of the Zendesk handoff, for the bot's action server.

A bot's `actions/handoff.py` only imports them, and the action server registers them:

    from rasa_zendesk.actions import (  # noqa: F401
        ActionValidateZendeskCsatForm,
        ActionZendeskCsat,
        ActionZendeskEndHandoff,
        ActionZendeskHandoff,
        ActionZendeskHandOut,
        ActionZendeskLeaveMessage,
        ActionZendeskRelay,
    )

To configure one, subclass it in the bot's actions package and change class attributes (the
subclass is registered after the original under the same action name, so it wins): for
example `bot_display_name`, or `agent_notes` (the note the agent reads when the plugin gives
the conversation back, by end reason; see `rasa_zendesk.actions.base.ZendeskAction`). They
share one base, `ZendeskAction` (`base`), for what every action does first.
"""

from rasa_zendesk.actions.csat import ActionValidateZendeskCsatForm, ActionZendeskCsat
from rasa_zendesk.actions.end_handoff import ActionZendeskEndHandoff
from rasa_zendesk.actions.escalate import ActionZendeskHandoff
from rasa_zendesk.actions.hand_out import ActionZendeskHandOut
from rasa_zendesk.actions.leave_message import ActionZendeskLeaveMessage
from rasa_zendesk.actions.relay import ActionZendeskRelay
from rasa_zendesk.settings import Connectors, MissingSettings, Sources, check

# `rasa run actions` imports this at start: a setting in the wrong form stops it there, naming
# the setting, instead of failing the first handoff that reads it. Missing connection settings
# only fail the handoffs (each says which), so the package imports without them (tests, tools).
check(Sources())
try:
    Connectors.read(Sources(where="the environment"))
except MissingSettings:
    pass

__all__ = [
    "ActionZendeskHandoff",
    "ActionZendeskRelay",
    "ActionZendeskEndHandoff",
    "ActionZendeskLeaveMessage",
    "ActionZendeskHandOut",
    "ActionZendeskCsat",
    "ActionValidateZendeskCsatForm",
]
