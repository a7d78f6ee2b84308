"""The handoff as Zendesk sees it, in `/_emulator/state` and `/_emulator/queue`: waiting, the
agent's first message, and how control came back (the switchboard event, its reason, whether
its webhook went out); and webhook-mode rules that single out that hand-back.

The SunCo API's own answers stay as the spec says (the `api` fixture checks every one).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest

from testkit.emulator_support import SunCoApi, WebhookReceiver

pytestmark = pytest.mark.timeout(30)

VIEW_FIELDS = ("agentStatus", "firstAgentMessageAt", "handback")


async def views(api: SunCoApi, conversation_id: str) -> Dict[str, Dict[str, Any]]:
    """The conversation as `/state` and as `/queue` show it (the two must agree)."""
    state = await api.control("GET", "/state")
    queue = await api.control("GET", "/queue")
    in_state = next(c for c in state["conversations"] if c["id"] == conversation_id)
    in_queue = next(c for c in queue["conversations"] if c["id"] == conversation_id)
    assert {k: in_state[k] for k in VIEW_FIELDS} == {k: in_queue[k] for k in VIEW_FIELDS}
    return {"state": in_state, "queue": in_queue}


async def view(api: SunCoApi, conversation_id: str) -> Dict[str, Any]:
    return (await views(api, conversation_id))["state"]


async def agent_says(api: SunCoApi, conversation_id: str, text: str) -> Dict[str, Any]:
    path = f"/conversations/{conversation_id}/agent-message"
    return (await api.control("POST", path, {"text": text}, expect=201))["message"]


def only_event_id(receiver: WebhookReceiver, event_type: str) -> str:
    (event,) = receiver.events(event_type)
    return str(event["id"])


async def test_waiting_then_agent_replied_then_solved_with_its_reason(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    conversation = await api.handed_off()
    cid = conversation["id"]

    waiting = await view(api, cid)
    assert (waiting["agentStatus"], waiting["firstAgentMessageAt"], waiting["handback"]) == (
        "open",
        None,
        None,
    )
    # The bot's own messages (business, posted through the API) are not the agent's.
    await api.post_text(cid, "An agent will be with you shortly.")
    assert (await view(api, cid))["firstAgentMessageAt"] is None

    first = await agent_says(api, cid, "Hi, I'm Alex.")
    await agent_says(api, cid, "Let me check your order.")
    replied = await view(api, cid)
    assert replied["agentStatus"] == "open" and replied["handback"] is None
    assert replied["firstAgentMessageAt"] == first["received"]  # the first, not the latest

    await api.solve(cid)
    await api.deliveries()
    solved = await views(api, cid)
    for shown in solved.values():
        assert shown["agentStatus"] == "solved" and shown["closedAt"]
        assert shown["firstAgentMessageAt"] == first["received"]
        assert shown["handback"] == {
            "type": "switchboard:releaseControl",
            "reason": "ticketClosed",
            "eventId": only_event_id(receiver, "switchboard:releaseControl"),
            "webhookStatus": "delivered",
        }
    # Earlier fields are unchanged, and SunCo's own view of the conversation has none of these.
    assert solved["state"]["handedOffAt"] and "activeSwitchboardIntegration" not in solved["state"]
    got = await api.ok("GET", f"/conversations/{cid}")
    assert not {"handback", "firstAgentMessageAt", "agentStatus"} & set(got["conversation"])


@pytest.mark.parametrize(
    ("how", "event_type", "reason", "status"),
    [
        ("solve-pass", "switchboard:passControl", "ticketClosed", "solved"),
        ("api-release", "switchboard:releaseControl", None, "released"),
        ("api-pass", "switchboard:passControl", None, "passed"),
        ("api-offer-accept", "switchboard:acceptControl", None, "passed"),
    ],
)
async def test_every_way_back_to_the_bot_names_its_event_and_reason(
    api: SunCoApi,
    receiver: WebhookReceiver,
    how: str,
    event_type: str,
    reason: Optional[str],
    status: str,
) -> None:
    cid = (await api.handed_off())["id"]
    base = f"/conversations/{cid}"
    if how == "solve-pass":
        await api.control("POST", base + "/solve", {"handback": "passControl"})
    elif how == "api-release":
        await api.ok("POST", base + "/releaseControl", {})
    elif how == "api-pass":
        await api.ok("POST", base + "/passControl", {"switchboardIntegration": "rasa"})
    else:
        await api.ok("POST", base + "/offerControl", {"switchboardIntegration": "rasa"})
        await api.ok("POST", base + "/acceptControl", {})
    await api.deliveries()

    shown = await view(api, cid)
    assert shown["agentStatus"] == status and shown["firstAgentMessageAt"] is None
    assert shown["handback"] == {
        "type": event_type,
        "reason": reason,
        "eventId": receiver.events(event_type)[-1]["id"],  # the last: after the handoff's own
        "webhookStatus": "delivered",
    }


async def test_a_new_handoff_starts_clean(api: SunCoApi) -> None:
    cid = (await api.handed_off())["id"]
    await agent_says(api, cid, "Hello")
    await api.solve(cid)
    await api.pass_control(cid, "zd-agentWorkspace")
    again = await view(api, cid)
    assert (again["agentStatus"], again["firstAgentMessageAt"], again["handback"]) == (
        "open",
        None,
        None,
    )


async def test_hold_the_next_hand_back_skips_the_handoff_itself(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    rule = (
        await api.control("POST", "/webhook-mode", {"mode": "hold", "handback": True}, expect=201)
    )["rule"]
    assert (rule["mode"], rule["handback"], rule["type"], rule["remaining"]) == (
        "hold",
        True,
        None,
        1,
    )
    # The bot's passControl to the agents and its own releaseControl are no hand-backs.
    await api.create_user("bot-only")
    with_bot = (await api.create_conversation("bot-only"))["id"]
    await api.ok("POST", f"/conversations/{with_bot}/releaseControl", {})
    cid = (await api.handed_off())["id"]
    await api.deliveries()
    assert len(receiver.events("switchboard:passControl")) == 1
    assert len(receiver.events("switchboard:releaseControl")) == 1
    assert (await api.control("GET", "/webhook-mode"))["held"] == []

    await api.solve(cid)
    await api.deliveries()
    held = (await view(api, cid))["handback"]
    assert held["type"] == "switchboard:releaseControl" and held["webhookStatus"] == "held"
    assert (await api.control("GET", "/webhook-mode"))["held"] == [held["eventId"]]
    assert len(receiver.events("switchboard:releaseControl")) == 1  # only the bot's own

    released = await api.control("POST", f"/webhooks/{held['eventId']}/release")
    assert released["delivery"]["status"] == "delivered"
    assert (await view(api, cid))["handback"]["webhookStatus"] == "delivered"
    assert receiver.events("switchboard:releaseControl")[-1]["id"] == held["eventId"]


async def test_drop_the_next_hand_back_by_pass_control(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    await api.control(
        "POST",
        "/webhook-mode",
        {"mode": "drop", "handback": True, "type": "switchboard:passControl"},
        expect=201,
    )
    cid = (await api.handed_off())["id"]
    await api.solve(cid, {"handback": "passControl"})
    await api.deliveries()
    shown = (await view(api, cid))["handback"]
    assert (shown["type"], shown["reason"], shown["webhookStatus"]) == (
        "switchboard:passControl",
        "ticketClosed",
        "dropped",
    )
    sent = [e["id"] for e in receiver.events("switchboard:passControl")]
    assert len(sent) == 1 and shown["eventId"] not in sent  # the handoff's own only
    (rule,) = (await api.control("GET", "/webhook-mode"))["rules"]
    assert (rule["hits"], rule["remaining"]) == (1, 0)


async def test_a_handback_filter_must_be_a_boolean(api: SunCoApi) -> None:
    for body in ({"mode": "hold", "handback": "yes"}, {"mode": "hold", "handback": 1}):
        await api.control("POST", "/webhook-mode", body, expect=400)
