"""A message that cannot go never blocks the ones after it (issue 21, item 8).

Zendesk refusing a message (a 4xx no retry changes), an address no client can read, or an
error of ours gives that message up at once, the user told why; a passing failure (SunCo
unreachable) keeps it waiting, until its `MAX_RELAY_TRIES`th relay in a row. Either way the
messages after it reach the agent in the same relay.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import httpx
import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa_sdk.executor import ActionExecutor

from rasa_zendesk import constants
from rasa_zendesk.actions import relay, user_files
from testkit.action_calls import BOT_DOMAIN_YAML, responses, run_action, user
from testkit.action_emulator import Zendesk, answered, handed_off, handled_through

pytestmark = pytest.mark.timeout(60)

SENDER = "telegram-4242"  # the sender of `handed_off`


async def run(executor: ActionExecutor, turns: List[Any]) -> Dict[str, Any]:
    return await run_action(executor, constants.ACTION_RELAY, SENDER, turns)


def told(result: Dict[str, Any], response: str, variable: str) -> List[str]:
    """The values of one variable of a response, each time the action asked for it."""
    return [r[variable] for r in result["responses"] if r["response"] == response]


def posted_texts(zendesk: Zendesk, conversation_id: str) -> List[str]:
    messages = zendesk.conversation(conversation_id)["messages"]
    return [m["content"].get("text") or m["content"].get("mediaUrl") for m in messages]


async def two_pending(
    zendesk: Zendesk, executor: ActionExecutor, first: Optional[Dict[str, Any]] = None
) -> Tuple[List[Any], str]:
    """A handoff with two user messages not yet relayed: `first` (its metadata), then a
    plain one."""
    turns, conversation_id, _ = await handed_off(zendesk, executor)
    turns += user("the first", "inform", metadata=first)
    turns += user("the second", "inform")
    return turns, conversation_id


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_a_message_zendesk_refuses_is_given_up_and_the_next_one_goes(
    zendesk: Zendesk, executor: ActionExecutor, status: int
) -> None:
    turns, conversation_id = await two_pending(zendesk, executor)
    zendesk.fault("/messages", status=status, count=1)  # the first post only

    result = await run(executor, turns)

    assert told(result, constants.UTTER_MESSAGE_NOT_RELAYED, "reason") == [relay.ZENDESK_REFUSED]
    assert constants.UTTER_RELAY_FAILED not in responses(result)
    assert handled_through(result) == turns[-1].message_id  # neither waits any more
    texts = posted_texts(zendesk, conversation_id)
    assert texts[-1] == "the second" and "the first" not in texts


@pytest.mark.parametrize(
    "url",
    [
        "https://files.example.org:0/photo.png",  # a port no client can use
        "https://files.example.org/ph\x01oto.png",  # a control character
    ],
)
async def test_an_address_no_client_can_read_is_refused_and_the_rest_goes(
    zendesk: Zendesk, executor: ActionExecutor, url: str
) -> None:
    turns, conversation_id = await two_pending(
        zendesk, executor, first={"attachments": [{"type": "image", "url": url}]}
    )

    result = await run(executor, turns)

    assert told(result, constants.UTTER_FILE_REFUSED, "reason") == [user_files.BAD_ADDRESS]
    assert handled_through(result) == turns[-1].message_id
    assert posted_texts(zendesk, conversation_id)[-2:] == ["the first", "the second"]


async def test_an_error_of_ours_gives_the_message_up_and_the_next_one_goes(
    zendesk: Zendesk, executor: ActionExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = user_files.content_for

    async def content_for(client: Any, conversation_id: str, file: Any, within: float) -> Any:
        if "poison" in file.url:
            raise httpx.InvalidURL("Invalid port: 'x'")
        return await original(client, conversation_id, file, within)

    monkeypatch.setattr(user_files, "content_for", content_for)
    poison = {"attachments": [{"type": "file", "url": "https://files.example.org/poison.pdf"}]}
    turns, conversation_id = await two_pending(zendesk, executor, first=poison)

    result = await run(executor, turns)

    assert told(result, constants.UTTER_MESSAGE_NOT_RELAYED, "reason") == [relay.BROKEN]
    assert handled_through(result) == turns[-1].message_id
    assert posted_texts(zendesk, conversation_id)[-1] == "the second"


async def test_a_passing_failure_keeps_the_message_and_those_after_it_in_order(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, conversation_id = await two_pending(zendesk, executor)
    before = len(zendesk.conversation(conversation_id)["messages"])
    zendesk.fault("/messages", status=503)

    result = await run(executor, turns)

    assert responses(result) == [constants.UTTER_RELAY_FAILED]
    assert handled_through(result) is None  # both wait for the next relay
    assert len(zendesk.conversation(conversation_id)["messages"]) == before


def relays(count: int) -> List[Any]:
    """Relays that ran and did not get the pending messages through (their record unchanged,
    or no answer at all)."""
    return [ActionExecuted(constants.ACTION_RELAY) for _ in range(count)]


async def test_the_last_try_in_a_row_gives_the_message_up_and_the_next_one_goes(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, conversation_id, _ = await handed_off(zendesk, executor)
    turns += user("stuck since Zendesk was down", "inform")
    stuck = turns[-1].message_id
    turns += relays(relay.MAX_RELAY_TRIES - 1)
    turns += user("and now", "inform")
    latest = turns[-1].message_id
    zendesk.fault("/messages", status=503, count=1000)

    result = await run(executor, turns)

    # Its last try: given up; the next one has tries left, and waits.
    assert told(result, constants.UTTER_MESSAGE_NOT_RELAYED, "reason") == [relay.TRIED_OUT]
    assert responses(result)[-1] == constants.UTTER_RELAY_FAILED
    assert handled_through(result) == stuck
    turns += [*relays(1), *answered(result)]
    zendesk.control("DELETE", "/faults")

    result = await run(executor, turns)

    assert responses(result) == [] and handled_through(result) == latest
    texts = posted_texts(zendesk, conversation_id)
    assert texts[-1].endswith("and now") and not any("stuck since" in t for t in texts)


async def test_a_message_whose_relays_all_died_is_given_up_untried(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    """Every relay with it died before answering (it crashed or hung the action server): it
    is not tried again, and the one after it goes."""
    turns, conversation_id, _ = await handed_off(zendesk, executor)
    turns += user("the one that kills the relay", "inform")
    turns += relays(relay.MAX_RELAY_TRIES)
    turns += user("hello?", "inform")
    before = len(zendesk.api_calls())

    result = await run(executor, turns)

    assert told(result, constants.UTTER_MESSAGE_NOT_RELAYED, "reason") == [relay.TRIED_OUT]
    assert handled_through(result) == turns[-1].message_id
    posts = [c["body"]["content"].get("text") for c in zendesk.api_calls()[before:]]
    assert posts == ["hello?"]


async def test_a_message_given_up_then_one_that_waits(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    """Zendesk refuses the first for good, then cannot be reached: the first is given up, the
    second waits (the record says the first is dealt with)."""
    turns, conversation_id = await two_pending(zendesk, executor)
    zendesk.fault("/messages", status=400, count=1)
    zendesk.fault("/messages", status=503, count=1000)

    result = await run(executor, turns)

    assert responses(result) == [
        constants.UTTER_MESSAGE_NOT_RELAYED,
        constants.UTTER_RELAY_FAILED,
    ]
    first_id = next(t.message_id for t in turns if getattr(t, "text", None) == "the first")
    assert handled_through(result) == first_id


async def test_without_the_response_in_the_domain_the_user_reads_the_built_in_sentence(
    zendesk: Zendesk, executor: ActionExecutor
) -> None:
    turns, _ = await two_pending(zendesk, executor)
    zendesk.fault("/messages", status=400, count=1)

    result = await run_action(
        executor, constants.ACTION_RELAY, SENDER, turns, Domain.from_yaml(BOT_DOMAIN_YAML)
    )

    [text] = [r["text"] for r in result["responses"] if r.get("text")]
    assert text.startswith("Sorry, one of your messages couldn't be passed on to the agent:")
    assert relay.ZENDESK_REFUSED in text
