"""The agent's summary and transcript, from the tracker data the action server receives."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker

from rasa_zendesk.actions import summary
from rasa_zendesk.actions.summary import Attachment, summarize
from rasa_zendesk.constants import SLOT_HANDOFF
from rasa_zendesk.handoff import state
from testkit.policy_trackers import example_domain, session_start

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
DETAIL = "negative sentiment -0.80 in the last message (threshold -0.60)"
REASON = {"kind": "frustration", "detail": DETAIL}  # as the policy sets the slot
IMAGE = {"type": "image", "url": "https://example.com/box.jpg", "name": "box.jpg"}


def said(text: str, intent: str, at: float, entities: Any = (), **extra: Any) -> UserUttered:
    parsed = {"name": intent, "confidence": 0.97}
    return UserUttered(
        text,
        intent=parsed,
        entities=list(entities),
        parse_data={"intent": parsed, "entities": list(entities), "text": text},
        timestamp=at,
        input_channel="socketio",
        **extra,
    )


def answered(text: str, action: str, at: float, **extra: Any) -> List[Event]:
    return [
        ActionExecuted(action, timestamp=at),
        BotUttered(text, metadata={"utter_action": action}, timestamp=at, **extra),
        ActionExecuted("action_listen", timestamp=at),
    ]


ORDER = {"entity": "order_number", "value": "12345678", "start": 18, "end": 26}


def conversation() -> List[Event]:
    """A user who checks an order, gets angry, and sends a photo: then the policy escalates."""
    return [
        *session_start(T0),
        said("hi", "greet", T0 + 1),
        *answered("Hi! I'm the Acme support bot.", "utter_greet", T0 + 2),
        said("where is my order 12345678", "order_status", T0 + 10, [ORDER]),
        SlotSet("order_number", "12345678", timestamp=T0 + 10),
        *answered(
            "Order 12345678 has shipped.",
            "utter_order_status",
            T0 + 11,
            data={"buttons": [{"title": "Track it", "payload": "/track"}]},
        ),
        said("where is my order 12345678", "order_status", T0 + 20, [ORDER]),
        *answered("Order 12345678 has shipped.", "utter_order_status", T0 + 21),
        said(
            "It never arrived and the box was broken, I'm so angry",
            "order_status",
            T0 + 30,
            metadata={"attachments": [IMAGE]},
        ),
        SlotSet("zendesk_handoff_reason", REASON, timestamp=T0 + 30),  # the policy's reason
    ]


def sdk_tracker(events: List[Event]) -> Tracker:
    """The tracker as the action server gets it (rasa-sdk, event dicts)."""
    core = DialogueStateTracker.from_events("user-1", events, slots=example_domain().slots)
    return Tracker.from_dict(core.current_state(EventVerbosity.AFTER_RESTART))


def test_summary_reads_well() -> None:
    briefing = summarize(sdk_tracker(conversation()))
    assert briefing.text == "\n".join(
        [
            "Conversation handed over by the bot",
            f"Why: frustration: {DETAIL}",
            "What the user wanted: greet; order_status (x3) [order_number=12345678]",
            "Known details: order_number: 12345678",
            "The user's last words:",
            '- "where is my order 12345678"',
            '- "where is my order 12345678"',
            "- \"It never arrived and the box was broken, I'm so angry\n"
            '[image box.jpg: https://example.com/box.jpg]"',
            "Transcript: 4 user and 3 bot messages, since 2023-11-14 22:13:21 UTC, below.",
        ]
    )
    assert briefing.reason.kind == "frustration"
    assert briefing.reason.title == "the user seems frustrated"


def test_summary_is_deterministic_and_same_from_a_tracker_or_its_events() -> None:
    tracker = sdk_tracker(conversation())
    from_lists = summarize(tracker.events, tracker.slots)
    assert summarize(tracker) == from_lists == summarize(sdk_tracker(conversation()))


def test_transcript_has_roles_texts_times_and_attachments() -> None:
    turns = summarize(sdk_tracker(conversation())).transcript
    assert [(t.role, t.text) for t in turns[:3]] == [
        ("user", "hi"),
        ("bot", "Hi! I'm the Acme support bot."),
        ("user", "where is my order 12345678"),
    ]
    assert [t.timestamp for t in turns] == [T0 + d for d in (1, 2, 10, 11, 20, 21, 30)]
    assert turns[3].buttons == ("Track it",)
    assert turns[-1].attachments == (Attachment("image", IMAGE["url"], "box.jpg"),)


def test_rendered_transcript() -> None:
    turns = summarize(sdk_tracker(conversation())).transcript
    blocks = summary.transcript_blocks(turns[2:4], bot_name="Acme bot")
    assert blocks == [
        "[2023-11-14 22:13:30 UTC] User: where is my order 12345678",
        "[2023-11-14 22:13:31 UTC] Acme bot: Order 12345678 has shipped.\n[buttons: Track it]",
    ]


def test_explicit_request_and_slots_of_the_plugin_hidden() -> None:
    events = [
        *conversation()[:4],
        said("let me talk to a human", "human_handoff", T0 + 5),
        SlotSet("zendesk_handoff_reason", {"kind": "explicit_request", "detail": "asked"}),
        SlotSet("requested_slot", None),
    ]
    briefing = summarize(sdk_tracker(events))
    assert briefing.reason.kind == "explicit_request"
    assert "Why: explicit request: asked" in briefing.text
    assert briefing.requests == (
        summary.Request("greet", 1),
        summary.Request("human_handoff", 1),
    )
    assert briefing.slots == ()  # zendesk_* and Rasa's own slots are not "known details"
    assert "Known details" not in briefing.text


def test_reason_inferred_when_the_slot_is_empty() -> None:
    by_intent = summarize([said("human please", "human_handoff", T0).as_dict()], {})
    assert by_intent.reason.kind == "explicit_request"
    unknown = summarize([said("hi", "greet", T0).as_dict()], {})
    assert unknown.reason.kind == "unknown"
    assert "Why: no reason recorded" in unknown.text


def test_a_reason_stored_as_text_reads_as_unknown_with_its_text() -> None:
    """A slot written by a version that stored the reason as prose (a conversation escalating
    across an upgrade): the agent still reads the text, filed under the unknown kind."""
    old = "frustration: negative sentiment -0.80 in the last message"
    briefing = summarize([said("so angry", "greet", T0).as_dict()], {"zendesk_handoff_reason": old})
    assert (briefing.reason.kind, briefing.reason.title) == ("unknown", "handoff requested")
    assert f"Why: {old}" in briefing.text


def test_fallbacks_are_named_as_not_understood() -> None:
    events = [
        said("blorp", "nlu_fallback", T0).as_dict(),
        said("zing", "nlu_fallback", T0 + 1).as_dict(),
    ]
    reason = {"kind": "fallbacks", "detail": "2 in a row"}
    briefing = summarize(events, {"zendesk_handoff_reason": reason})
    assert briefing.reason.kind == "fallbacks"
    assert briefing.reason.title == "the bot did not understand"
    assert "Why: repeated fallbacks: 2 in a row" in briefing.text
    assert "What the user wanted: not understood (x2)" in briefing.text


def test_messages_relayed_during_an_earlier_handoff_are_not_requests() -> None:
    handoff = state.opened("conv_1")
    events = [
        said("human please", "human_handoff", T0),
        ActionExecuted("action_zendesk_handoff"),
        SlotSet(SLOT_HANDOFF, handoff.as_slot()),
        said("my order 87654321 is late", "order_status", T0 + 1),  # to the agent
        BotUttered("I'll check", metadata={"zendesk_agent_name": "Ann"}, timestamp=T0 + 2),
        SlotSet(SLOT_HANDOFF, state.ended(handoff, state.TICKET_CLOSED).as_slot()),
        said("I need a person again", "human_handoff", T0 + 3),
    ]
    briefing = summarize([event.as_dict() for event in events], {})
    assert [r.intent for r in briefing.requests] == ["human_handoff"]
    assert briefing.requests[0].count == 2
    agent_turn = briefing.transcript[2]
    assert (agent_turn.role, agent_turn.agent_name) == ("bot", "Ann")
    assert "Agent Ann: I'll check" in "\n".join(summary.transcript_blocks(briefing.transcript))


def test_bot_images_and_malformed_attachments() -> None:
    events: List[Dict[str, Any]] = [
        BotUttered(None, data={"image": "https://example.com/map.png"}, timestamp=T0).as_dict(),
        said("x", "greet", T0, metadata={"attachments": [{"type": "file"}, "nope"]}).as_dict(),
        said("y", "greet", T0, metadata={"attachments": "not a list"}).as_dict(),
    ]
    turns = summarize(events, {}).transcript
    assert turns[0].attachments == (Attachment("image", "https://example.com/map.png"),)
    assert turns[1].attachments == (Attachment("file", "nope"),)  # a bare URL string is kept
    assert turns[2].attachments == ()


def test_long_quotes_are_shortened_in_the_summary() -> None:
    long_text = "word " * 400
    briefing = summarize([said(long_text, "order_status", T0).as_dict()], {})
    quote = [line for line in briefing.text.splitlines() if line.startswith('- "')][0]
    assert len(quote) < summary.MAX_QUOTE + 10
    assert quote.endswith('…"')


def test_intent_payloads_are_not_the_users_words() -> None:
    events = [
        {"event": "user", "text": "/greet", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "bot", "text": "Hi! How can I help?"},
        {
            "event": "user",
            "text": '/order_status{"order_number": "42"}',
            "parse_data": {"intent": {"name": "order_status"}},
        },
        {
            "event": "user",
            "text": "where is it?",
            "parse_data": {"intent": {"name": "order_status"}},
        },
    ]
    briefing = summarize(events, {})
    assert [turn.text for turn in briefing.transcript] == ["Hi! How can I help?", "where is it?"]
    assert "/greet" not in briefing.text
    assert "where is it?" in briefing.text


def test_handed_out_copies_are_not_in_the_transcript_twice() -> None:
    """A REST user's agent message is stored once (and carried into the next session while it
    waits), then handed out with their next request as a copy marked `zendesk_handed_out`:
    the agent reads it once."""
    events = [
        {"event": "user", "text": "hello?", "timestamp": T0},
        {
            "event": "bot",
            "text": "Anna here",
            "timestamp": T0 + 1,
            "metadata": {"zendesk_pending": "m1"},
        },
        # Carried into the new session that followed the end of the handoff.
        {"event": "session_started", "timestamp": T0 + 2},
        {
            "event": "bot",
            "text": "Anna here",
            "timestamp": T0 + 2,
            "metadata": {"zendesk_pending": "m1"},
        },
        {
            "event": "bot",
            "text": "Anna here",
            "timestamp": T0 + 5,
            "metadata": {"zendesk_handed_out": "m1"},
        },
    ]
    assert [(t.role, t.text) for t in summary.build_transcript(events)] == [
        ("user", "hello?"),
        ("bot", "Anna here"),
    ]
