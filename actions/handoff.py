"""The Zendesk handoff actions: importing them is all the action server needs to run them."""

from rasa_zendesk.actions import (  # noqa: F401
    ActionValidateZendeskCsatForm,
    ActionZendeskCsat,
    ActionZendeskEndHandoff,
    ActionZendeskHandoff,
    ActionZendeskHandOut,
    ActionZendeskLeaveMessage,
    ActionZendeskRelay,
)
