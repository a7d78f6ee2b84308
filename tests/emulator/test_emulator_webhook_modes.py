"""Unkind webhook deliveries (`/_emulator/webhook-mode`): duplicated, swapped, held, dropped.

Every webhook the receiver gets is checked against the spec (the `receiver` fixture).
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from rasa_zendesk.emulator.webhook_formats import ZendeskEventFormat
from testkit.emulator_support import SunCoApi, WebhookReceiver

pytestmark = pytest.mark.timeout(30)


def message_ids(receiver: WebhookReceiver) -> List[str]:
    """Ids of the messages of the `conversation:message` webhooks, in arrival order."""
    return [e["payload"]["message"]["id"] for e in receiver.events("conversation:message")]


async def mode(api: SunCoApi, **body: Any) -> Dict[str, Any]:
    return (await api.control("POST", "/webhook-mode", body, expect=201))["rule"]


async def quiet_handoff(api: SunCoApi, receiver: WebhookReceiver, user: str = "rasa-1") -> str:
    """A conversation with Agent Workspace, its webhooks delivered and forgotten."""
    conversation = await api.handed_off(user)
    await api.deliveries()
    receiver.received.clear()
    return str(conversation["id"])


async def post_texts(api: SunCoApi, conversation_id: str, count: int) -> List[str]:
    return [(await api.post_text(conversation_id, f"m{n}"))["id"] for n in range(count)]


async def test_duplicate_sends_the_same_event_twice(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    cid = await quiet_handoff(api, receiver)
    rule = await mode(api, mode="duplicate", type="conversation:message")
    assert (rule["mode"], rule["remaining"], rule["type"]) == (
        "duplicate",
        1,
        "conversation:message",
    )

    first, second = await post_texts(api, cid, 2)
    deliveries = await api.deliveries(eventType="conversation:message")

    assert message_ids(receiver) == [first, first, second]
    assert receiver.received[0].body == receiver.received[1].body  # same event id and body
    doubled, single = deliveries
    assert doubled["modes"] == ["duplicate"] and doubled["status"] == "delivered"
    assert [(a["status"], a["duplicate"]) for a in doubled["attempts"]] == [
        (200, False),
        (200, True),
    ]
    assert single["modes"] == [] and len(single["attempts"]) == 1
    (listed,) = (await api.control("GET", "/webhook-mode"))["rules"]
    assert (listed["hits"], listed["remaining"]) == (1, 0)


async def test_a_duplicate_follows_a_retried_first_delivery(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    cid = await quiet_handoff(api, receiver)
    await mode(api, mode="duplicate")
    receiver.plan.append(503)
    (posted,) = await post_texts(api, cid, 1)
    (delivery,) = await api.deliveries(eventType="conversation:message")
    assert [(a["status"], a["duplicate"]) for a in delivery["attempts"]] == [
        (503, False),
        (200, False),
        (200, True),
    ]
    assert [item.status for item in receiver.received] == [503, 200, 200]
    assert message_ids(receiver) == [posted] * 2


async def test_reorder_swaps_each_event_with_the_next_one(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    cid = await quiet_handoff(api, receiver)
    await mode(api, mode="reorder", count=2, conversationId=cid)

    m0, m1, m2, m3, m4 = await post_texts(api, cid, 5)
    deliveries = await api.deliveries(eventType="conversation:message")

    assert message_ids(receiver) == [m1, m0, m3, m2, m4]
    assert [d["modes"] for d in deliveries] == [["reorder"], [], ["reorder"], [], []]
    assert all(d["status"] == "delivered" and len(d["attempts"]) == 1 for d in deliveries)


async def test_reorder_without_a_next_event_delivers_after_max_wait(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    cid = await quiet_handoff(api, receiver)
    await mode(api, mode="reorder", maxWait=0.3)
    (posted,) = await post_texts(api, cid, 1)
    (delivery,) = await api.deliveries(eventType="conversation:message")
    assert delivery["status"] == "delivered"
    assert message_ids(receiver) == [posted]


async def test_a_rule_for_one_conversation_leaves_the_others_alone(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    cid = await quiet_handoff(api, receiver)
    await api.create_user("rasa-2")
    other = (await api.create_conversation("rasa-2"))["id"]
    await api.deliveries()
    receiver.received.clear()
    await mode(api, mode="duplicate", conversationId=cid, count=10)

    (in_other,) = await post_texts(api, other, 1)
    (in_ours,) = await post_texts(api, cid, 1)
    await api.deliveries()

    assert sorted(message_ids(receiver)) == sorted([in_other, in_ours, in_ours])


async def test_hold_keeps_an_event_back_until_it_is_released(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    cid = await quiet_handoff(api, receiver)
    await mode(api, mode="hold", type="switchboard:releaseControl")

    await api.solve(cid)
    (late_reply,) = await post_texts(api, cid, 1)
    await api.deliveries()  # does not wait for the held event
    assert [e["type"] for e in receiver.events()] == ["conversation:message"]
    (held,) = await api.deliveries(status="held")
    assert held["eventType"] == "switchboard:releaseControl" and held["modes"] == ["hold"]
    assert held["attempts"] == []
    assert (await api.control("GET", "/webhook-mode"))["held"] == [held["eventId"]]

    released = await api.control("POST", f"/webhooks/{held['eventId']}/release")
    assert released["delivery"]["status"] == "delivered"
    types = [e["type"] for e in receiver.events()]
    assert types == ["conversation:message", "switchboard:releaseControl"]
    assert receiver.events()[1]["id"] == held["eventId"]
    assert receiver.events()[1]["payload"]["reason"] == "ticketClosed"
    assert message_ids(receiver) == [late_reply]

    # Only a held event can be released; an unknown one is a 404.
    await api.control("POST", f"/webhooks/{held['eventId']}/release", expect=409)
    await api.control("POST", "/webhooks/000000000000000000000000/release", expect=404)


async def test_drop_loses_an_event_which_redeliver_can_still_send(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    cid = await quiet_handoff(api, receiver)
    await mode(api, mode="drop", type="conversation:typing")

    await api.control("POST", f"/conversations/{cid}/typing", {"typing": True})
    await api.control("POST", f"/conversations/{cid}/typing", {"typing": False})
    await api.deliveries()

    typing = [e["payload"]["activity"]["type"] for e in receiver.events("conversation:typing")]
    assert typing == ["typing:stop"]
    (dropped,) = await api.deliveries(status="dropped")
    assert dropped["modes"] == ["drop"] and dropped["attempts"] == []
    await api.control("POST", f"/webhooks/{dropped['eventId']}/release", expect=409)

    await api.control("POST", f"/webhooks/{dropped['eventId']}/redeliver")
    typing = [e["payload"]["activity"]["type"] for e in receiver.events("conversation:typing")]
    assert typing == ["typing:stop", "typing:start"]


async def test_modes_combine_and_drop_wins(api: SunCoApi, receiver: WebhookReceiver) -> None:
    cid = await quiet_handoff(api, receiver)
    await mode(api, mode="duplicate", count=3)
    await mode(api, mode="reorder")
    await mode(api, mode="drop", count=1)

    m0, m1, m2 = await post_texts(api, cid, 3)
    deliveries = await api.deliveries(eventType="conversation:message")

    # m0 dropped (the duplicate and reorder rules untouched), m1 swapped with m2, both doubled.
    assert [d["modes"] for d in deliveries] == [["drop"], ["duplicate", "reorder"], ["duplicate"]]
    assert message_ids(receiver) == [m2, m2, m1, m1]
    rules = (await api.control("GET", "/webhook-mode"))["rules"]
    assert [(r["mode"], r["hits"]) for r in rules] == [
        ("duplicate", 2),
        ("reorder", 1),
        ("drop", 1),
    ]


async def test_clearing_or_resetting_goes_back_to_in_order_once(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    cid = await quiet_handoff(api, receiver)
    await mode(api, mode="duplicate", count=100)
    await mode(api, mode="hold", type="conversation:typing")
    await api.control("POST", f"/conversations/{cid}/typing", {"typing": True})

    cleared = await api.control("DELETE", "/webhook-mode")
    assert cleared["rules"] == [] and len(cleared["held"]) == 1  # held stays held
    posted = await post_texts(api, cid, 2)
    await api.deliveries()
    assert message_ids(receiver) == posted

    await mode(api, mode="duplicate", count=100)
    await api.control("POST", "/reset")
    assert await api.control("GET", "/webhook-mode") == {"rules": [], "held": []}
    cid = await quiet_handoff(api, receiver)
    posted = await post_texts(api, cid, 2)
    await api.deliveries()
    assert message_ids(receiver) == posted


async def test_held_events_of_two_conversations_go_together_in_one_post(
    api: SunCoApi, receiver: WebhookReceiver
) -> None:
    """SunCo batches events of several conversations in one envelope, and retries the post
    whole while any event of it fails."""
    first = await quiet_handoff(api, receiver)
    second = await quiet_handoff(api, receiver, user="rasa-2")
    await mode(api, mode="hold", type="conversation:message", count=2)
    posted = [*(await post_texts(api, first, 1)), *(await post_texts(api, second, 1))]
    held = await api.deliveries(status="held")
    ids = [delivery["eventId"] for delivery in held]
    assert len(ids) == 2 and receiver.received == []
    receiver.plan.append(500)

    together = await api.control("POST", "/webhooks/release-together", {"eventIds": ids})
    assert [delivery["eventId"] for delivery in together["deliveries"]] == ids
    await api.deliveries()

    assert [item.status for item in receiver.received] == [500, 200]
    assert [[event["id"] for event in item.body["events"]] for item in receiver.received] == [
        ids,
        ids,
    ]
    assert message_ids(receiver) == posted
    for delivery in await api.deliveries(eventType="conversation:message"):
        assert delivery["status"] == "delivered" and delivery["modes"] == ["batched", "hold"]
        assert [attempt["status"] for attempt in delivery["attempts"]] == [500, 200]
    # Only held events, at least two of them, each known.
    await api.control("POST", "/webhooks/release-together", {"eventIds": ids}, expect=409)
    await api.control("POST", "/webhooks/release-together", {"eventIds": ids[:1]}, expect=409)
    unknown = {"eventIds": ["000000000000000000000000", ids[0]]}
    await api.control("POST", "/webhooks/release-together", unknown, expect=404)


def test_a_ticket_webhook_carries_one_event_per_post() -> None:
    ticket = ZendeskEventFormat(account_id=1, secret="s")
    with pytest.raises(ValueError, match="one event per post"):
        ticket.batch_body([{"id": "a"}, {"id": "b"}])
