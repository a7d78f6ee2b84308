"""A handoff's timer (`rasa_zendesk.channel.handlers.timer`): not yet due, it tells when; due
for no agent yet, it offers the choices and tells the next deadline; an end (idle, too long:
tests/handoff/test_endings.py) leaves no deadline. Given up on (the user's channel kept
refusing), the handoff ends as `failed`."""

from __future__ import annotations

from rasa_zendesk import constants
from rasa_zendesk.channel.handlers import timer
from rasa_zendesk.handoff import deadlines, endings, pending, state
from testkit.action_calls import DOMAIN
from testkit.in_memory_rasa import SENDER, in_memory_rasa


async def test_not_due_it_says_when() -> None:
    server = await in_memory_rasa(DOMAIN, since=10)
    upcoming = await timer.fire(server.rasa, SENDER)
    assert upcoming is not None and upcoming.what == deadlines.OFFER_CHOICES
    assert await server.said() == []


async def test_no_agent_in_time_offers_the_choices_once() -> None:
    server = await in_memory_rasa(DOMAIN, {"ZENDESK_AGENT_TIMEOUT": "600"}, since=700)
    upcoming = await timer.fire(server.rasa, SENDER)
    assert upcoming is not None and upcoming.what == deadlines.END_MAX_DURATION
    [offer] = await server.said()
    assert offer.text.startswith("No agent is free yet")
    record = await server.record()
    assert record is not None and record.agent_timeout_offered_at is not None
    assert record.state == state.WAITING
    await timer.fire(server.rasa, SENDER)
    assert len(await server.said()) == 1


async def test_no_running_handoff_no_timer() -> None:
    over = state.ended(state.opened("conv"), state.USER_ENDED)
    server = await in_memory_rasa(DOMAIN, handoff=over)
    assert await timer.fire(server.rasa, SENDER) is None
    assert await timer.fire(server.rasa, "nobody") is None


async def test_giving_up_ends_it_as_failed_and_keeps_the_notice_for_the_next_message() -> None:
    server = await in_memory_rasa(DOMAIN)
    await timer.give_up(server.rasa, SENDER)
    record = await server.record()
    assert record is not None and record.end_reason == state.FAILED
    assert server.directory.released == [endings.release_metadata(state.FAILED)]
    [notice] = pending.not_handed_out((await server.tracker()).events)
    assert notice.text == DOMAIN.responses[constants.UTTER_HANDOFF_ENDED][0]["text"]
    assert server.follow_ups.ran == ["action_session_start"]  # a fresh session, nothing said
    said = len(await server.said())  # the notice, and its copy carried into the new session
    await timer.give_up(server.rasa, SENDER)  # over already: nothing more
    assert len(await server.said()) == said and len(server.directory.released) == 1
