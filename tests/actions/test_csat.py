"""`action_zendesk_csat` against the emulator: the rating recorded once in the handoff's record
(a replay changes nothing), the user thanked at once while Zendesk hangs, and the ticket
written in the background, tried again after a 5xx, never twice. The form's validation: a
rating kept, a miss asked again once, a refusal ending the form unrated."""

from __future__ import annotations

import time
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from rasa_zendesk import constants
from rasa_zendesk.actions.base import Turn
from rasa_zendesk.actions.csat import (
    DECLINED,
    ActionValidateZendeskCsatForm,
    ActionZendeskCsat,
    comment_of,
    rating_of,
)
from rasa_zendesk.emulator import EmulatorServer
from rasa_zendesk.handoff import state
from testkit.emulator_control import wait_for
from testkit.emulator_support import SunCoApi
from testkit.support_tickets import connector, emulated_account, ticket_of_handoff

pytestmark = pytest.mark.timeout(30)

Account = Tuple[EmulatorServer, SunCoApi]


class FastRetries(ActionZendeskCsat):
    retry_delays = (0.2, 0.2)
    request_timeout = 1.0


@pytest.fixture
async def account(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Account]:
    async for server, api in emulated_account():
        settings = connector(server, client_credentials=True)
        monkeypatch.setenv("ZENDESK_SUBDOMAIN", settings.subdomain)
        for name in ("app_id", "key_id", "key_secret", "webhook_secret", "api_url"):
            monkeypatch.setenv(f"ZENDESK_{name.upper()}", str(getattr(settings, name)))
        monkeypatch.setenv("ZENDESK_SUPPORT_API_URL", server.base_url)
        monkeypatch.setenv("ZENDESK_SUPPORT_OAUTH_CLIENT_ID", str(settings.support_oauth_client_id))
        monkeypatch.setenv(
            "ZENDESK_SUPPORT_OAUTH_CLIENT_SECRET", str(settings.support_oauth_client_secret)
        )
        yield server, api


def ended_record(conversation_id: str, ticket_id: Optional[str], joined: bool = True) -> Any:
    opened = state.opened(conversation_id, at=1000.0)
    if joined:
        opened = state.agent_joined(opened, "Alex", at=1060.0)
    handoff = state.ended(opened, state.TICKET_SOLVED, at=1500.0)
    return state.ticket_changed(handoff, ticket_id, "solved") if ticket_id else handoff


def tracker(record: Any, rating: Any, comment: Any = None, rated: Any = None) -> Tracker:
    events: List[Dict[str, Any]] = [
        {"event": "slot", "name": constants.SLOT_HANDOFF, "value": record.as_slot()}
    ]
    if rated is not None:
        events.append({"event": "slot", "name": constants.SLOT_HANDOFF, "value": rated})
    slots = {constants.SLOT_CSAT_RATING: rating, constants.SLOT_CSAT_COMMENT: comment}
    return Tracker("jane", slots, {"text": str(comment)}, events, False, None, None, None)


async def rate(tracker: Tracker, action: Optional[ActionZendeskCsat] = None) -> Tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = await (action or FastRetries()).act(Turn(dispatcher, tracker, {"responses": {}}))
    return events, dispatcher.messages


def recorded(events: List[Dict[str, Any]]) -> Optional[state.Handoff]:
    slots = [e for e in events if e.get("name") == constants.SLOT_HANDOFF]
    return state.Handoff.from_slot(slots[-1]["value"]) if slots else None


async def ticket(api: SunCoApi, conversation_id: str) -> Dict[str, Any]:
    return (await api.control("GET", f"/conversations/{conversation_id}/ticket"))["ticket"]


def answered(*answers: str, slot: str = constants.SLOT_CSAT_RATING) -> Tracker:
    """The CSAT form's tracker as Rasa passes it to the validation: the form started, each
    answer a user message, the last one extracted into `slot` (the candidate to check)."""
    events: List[Dict[str, Any]] = [
        {"event": "active_loop", "name": "zendesk_csat_form"},
    ]
    for answer in answers:
        events += [
            {"event": "bot", "text": "How would you rate ...?"},
            {"event": "user", "text": answer},
        ]
    events.append({"event": "slot", "name": slot, "value": answers[-1]})
    slots = {constants.SLOT_CSAT_RATING: None, constants.SLOT_CSAT_COMMENT: None}
    slots[slot] = answers[-1]
    latest = {"text": answers[-1]}
    return Tracker("jane", slots, latest, events, False, None, {"name": "f"}, None)


async def validate(tracker: Tracker) -> Tuple[Dict[str, Any], List[str]]:
    dispatcher = CollectingDispatcher()
    domain = {"responses": {}}
    events = await ActionValidateZendeskCsatForm().act(Turn(dispatcher, tracker, domain))
    return {e["name"]: e["value"] for e in events}, [m["text"] for m in dispatcher.messages]


async def test_the_form_keeps_a_rating_and_asks_again_once_after_a_miss() -> None:
    assert await validate(answered("4 stars")) == ({constants.SLOT_CSAT_RATING: "4"}, [])
    hint = "Please answer with a number from 1 to 5, or say skip."
    assert await validate(answered("great!")) == ({constants.SLOT_CSAT_RATING: None}, [hint])
    assert await validate(answered("great!", "5")) == ({constants.SLOT_CSAT_RATING: "5"}, [])
    # A second miss: the user has moved on; the form ends unrated, no comment asked.
    declined = {constants.SLOT_CSAT_RATING: DECLINED, constants.SLOT_CSAT_COMMENT: DECLINED}
    assert await validate(answered("great!", "where is my parcel?")) == (declined, [])
    assert await validate(answered("skip")) == (declined, [])
    assert await validate(answered("No thanks")) == (declined, [])
    # The comment takes any text.
    assert await validate(answered("4", "no", slot=constants.SLOT_CSAT_COMMENT)) == ({}, [])


async def test_a_declined_form_is_not_rated(account: Account) -> None:
    _, api = account
    conversation_id, ticket_id = await ticket_of_handoff(api)
    events, said = await rate(tracker(ended_record(conversation_id, ticket_id), DECLINED, DECLINED))
    assert recorded(events) is None and said == []


def test_ratings_and_comments_as_users_give_them() -> None:
    assert [rating_of(v) for v in ("4", 4, 4.0, "4 stars", " 5 ", "1")] == [4, 4, 4, 4, 5, 1]
    assert [rating_of(v) for v in ("6", "0", "4 or 5", "great", None, True, 4.5)] == [None] * 7
    assert comment_of("  Quick and kind ") == "Quick and kind"
    assert [comment_of(v) for v in ("no", "No", "skip", "", None)] == [None] * 5


async def test_the_rating_is_recorded_once_and_lands_on_the_ticket(account: Account) -> None:
    _, api = account
    conversation_id, ticket_id = await ticket_of_handoff(api)
    events, said = await rate(tracker(ended_record(conversation_id, ticket_id), "4", "Kind"))
    rated = recorded(events)
    assert rated is not None and rated.csat_rating == 4 and rated.csat_at is not None
    assert [m["text"] for m in said] == ["Thank you for your feedback!"]
    assert {e["name"]: e["value"] for e in events if e["name"] != constants.SLOT_HANDOFF} == {
        constants.SLOT_CSAT_RATING: None,
        constants.SLOT_CSAT_COMMENT: None,
    }
    shown = await wait_for(
        lambda: _rated_ticket(api, conversation_id), "the rating on the ticket", timeout=10
    )
    assert shown["csat"] == 4 and shown["notes"][0].endswith("Comment: Kind")
    # A replay, or the form answered again: the record says it is rated, nothing changes.
    again, said = await rate(
        tracker(ended_record(conversation_id, ticket_id), "2", None, rated.as_slot())
    )
    assert recorded(again) is None and said == []


async def _rated_ticket(api: SunCoApi, conversation_id: str) -> Optional[Dict[str, Any]]:
    shown = await ticket(api, conversation_id)
    return shown if shown["csat"] is not None else None


async def test_zendesk_hanging_never_holds_the_turn_and_a_5xx_is_retried(
    account: Account,
) -> None:
    _, api = account
    conversation_id, ticket_id = await ticket_of_handoff(api)
    await api.control(
        "POST", "/faults", {"pathContains": "/api/v2/tickets/", "hang": True}, expect=201
    )
    await api.control(
        "POST",
        "/faults",
        {"method": "PUT", "pathContains": "/api/v2/tickets/", "status": 503},
        expect=201,
    )
    started = time.monotonic()
    events, _ = await rate(tracker(ended_record(conversation_id, ticket_id), "5"))
    assert time.monotonic() - started < 0.5  # the write goes on in the background
    assert recorded(events).csat_rating == 5  # type: ignore[union-attr]
    shown = await wait_for(
        lambda: _rated_ticket(api, conversation_id), "the rating after the retries", timeout=10
    )
    assert shown["csat"] == 5 and len(shown["notes"]) == 1
    puts = (await api.control("GET", "/requests?method=PUT&pathContains=/tickets/"))["requests"]
    assert [r["status"] for r in puts] == [503, 200]


async def test_no_rating_without_an_agent_or_an_ended_handoff(account: Account) -> None:
    _, api = account
    conversation_id, ticket_id = await ticket_of_handoff(api)
    never_joined = ended_record(conversation_id, ticket_id, joined=False)
    running = state.opened(conversation_id)
    for record in (never_joined, running):
        events, said = await rate(tracker(record, "5"))
        assert recorded(events) is None and said == []
    events, said = await rate(tracker(ended_record(conversation_id, ticket_id), "excellent"))
    assert recorded(events) is None and said == []
    assert (await ticket(api, conversation_id))["csat"] is None
