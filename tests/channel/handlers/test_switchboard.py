"""Which switchboard events give the conversation back, and with which end reason
(`rasa_zendesk.channel.handlers.switchboard`)."""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest

from rasa_zendesk.channel.handlers.switchboard import reason_of_hand_back
from rasa_zendesk.handoff import state
from rasa_zendesk.sunco.webhooks import parse_event
from testkit.channel_harness import AGENT_WORKSPACE, pass_control_webhook, release_webhook

BOT = {"id": "sbi_bot", "name": "rasa", "integrationId": "int_rasa", "integrationType": "custom"}


def release(reason: Optional[str]) -> Dict[str, Any]:
    envelope = release_webhook("conv", "sender")
    payload = envelope["events"][0]["payload"]
    payload.pop("reason")
    if reason:
        payload["reason"] = reason
    return envelope


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (release(None), state.AGENT_RELEASED),
        (release("ticketClosed"), state.TICKET_CLOSED),
        (release("transferToEmail"), state.TRANSFER_TO_EMAIL),
        (release("somethingNew"), state.AGENT_RELEASED),
        (pass_control_webhook("conv", "sender", BOT, "ticketClosed"), state.TICKET_CLOSED),
        (pass_control_webhook("conv", "sender", AGENT_WORKSPACE, "ticketClosed"), None),
        (pass_control_webhook("conv", "sender", AGENT_WORKSPACE, None), None),
        (pass_control_webhook("conv", "sender", BOT, None), None),
        (pass_control_webhook("conv", "sender", BOT, "transferToEmail"), None),
    ],
)
def test_the_end_reason_of_a_hand_back(envelope: Dict[str, Any], reason: Optional[str]) -> None:
    assert reason_of_hand_back(parse_event(envelope["events"][0])) == reason
