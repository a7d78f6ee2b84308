"""Webhook delivery as Zendesk does it: retries, one lane per conversation, every attempt kept.

One sender serves each kind of webhook (SunCo's, Zendesk Support's ticket events); its
`WebhookFormat` says what the body and headers of an attempt are. Events of one conversation
are delivered strictly in order: the next waits until the previous one is delivered or has
used up its attempts. Every attempt is recorded for `/_emulator/webhooks`. Tests can make
deliveries unkind, as real Zendesk's sometimes are (duplicated, swapped, late or lost): see
`delivery_modes`.
"""

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

import aiohttp

from .delivery_modes import DeliveryModes
from .ids import camel_view, new_id, now_iso
from .webhook_formats import WebhookFormat

logger = logging.getLogger("rasa_zendesk.emulator")

# SunCo never retries these: the target said the request itself is wrong.
NON_RETRYABLE = frozenset({400, 401, 403, 404, 406})
MAX_KEPT = 10000


@dataclass
class Attempt:
    number: int
    url: str
    status: Optional[int]
    error: Optional[str]
    at: str
    duration_ms: int
    duplicate: bool = False  # sent again after a 2xx (mode `duplicate`)

    def to_json(self) -> Dict[str, Any]:
        return camel_view(self, number="attempt")


@dataclass
class Delivery:
    """One event, the body that carries it, and every attempt to deliver it."""

    event: Dict[str, Any]
    conversation_id: Optional[str]
    body: Dict[str, Any]
    created_at: str = field(default_factory=now_iso)
    # pending | delivered | failed | skipped | cancelled | held | dropped
    status: str = "pending"
    attempts: List[Attempt] = field(default_factory=list)
    redeliveries: int = 0
    modes: List[str] = field(default_factory=list)  # delivery modes applied (see delivery_modes)
    duplicate: bool = False  # send once more after the next 2xx
    # Mode `reorder`: set when the event that follows has been queued before this one, or
    # when this one stops waiting for it (after `reorder_wait` seconds).
    reordered: Optional[asyncio.Event] = None
    reorder_wait: float = 0.0
    # One per event, the same on every attempt and redelivery (Zendesk's invocation id).
    invocation_id: str = field(default_factory=new_id)

    @property
    def event_id(self) -> str:
        return str(self.event["id"])

    def to_json(self) -> Dict[str, Any]:
        return {
            "eventId": self.event_id,
            "eventType": self.event["type"],
            "conversationId": self.conversation_id,
            "status": self.status,
            "createdAt": self.created_at,
            "redeliveries": self.redeliveries,
            "modes": list(self.modes),
            "invocationId": self.invocation_id,
            "payload": self.body,
            "attempts": [attempt.to_json() for attempt in self.attempts],
        }


def _display(url: str) -> str:
    """The URL without query or credentials, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class WebhookSender:
    """Queues events per conversation and POSTs them, dressed by `webhook_format`, with SunCo's
    retry policy (Zendesk documents less for its event webhooks: same policy, best effort)."""

    def __init__(
        self,
        webhook_format: WebhookFormat,
        urls: Sequence[str],
        retry_delays: Sequence[float],
        timeout: float,
    ) -> None:
        self.format = webhook_format
        self.urls: List[str] = list(urls)
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.deliveries: Dict[str, Delivery] = {}  # insertion-ordered
        self._lanes: Dict[str, Deque[Tuple[Delivery, Optional[asyncio.Future]]]] = {}
        self._workers: Dict[str, asyncio.Task] = {}
        self._round_robin = itertools.count()
        self._idle = asyncio.Event()
        self._idle.set()
        self._session: Optional[aiohttp.ClientSession] = None
        self.modes = DeliveryModes()
        # Per lane: the reordered delivery waiting for the conversation's next event.
        self._awaiting_follower: Dict[str, Delivery] = {}
        # The event types the webhook is subscribed to (None: every one; see integrations_api).
        self.triggers: Optional[Tuple[str, ...]] = None

    @property
    def kind(self) -> str:
        return self.format.kind

    @property
    def webhook_id(self) -> str:
        return self.format.webhook_id

    def configure(self, urls: Optional[Sequence[str]] = None, secret: Optional[str] = None) -> None:
        if urls is not None:
            self.urls = list(urls)
        if secret is not None:
            self.format.set_secret(secret)

    def view(self) -> Dict[str, Any]:
        """The settings for the control API (never a secret's value)."""
        return {
            "urls": list(self.urls),
            **self.format.view(),
            "retryDelays": list(self.retry_delays),
            "timeout": self.timeout,
        }

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.cancel_all()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def cancel_all(self) -> None:
        """Stop every lane (reset or shutdown); unfinished deliveries are marked cancelled."""
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for lane in self._lanes.values():
            for delivery, waiter in lane:
                delivery.status = "cancelled"
                if waiter is not None and not waiter.done():
                    waiter.cancel()
        self._lanes.clear()
        self._workers.clear()
        self._awaiting_follower.clear()
        self._idle.set()

    async def reset(self) -> None:
        await self.cancel_all()
        self.deliveries.clear()
        self.modes.reset()

    def send(
        self, event: Dict[str, Any], conversation_id: Optional[str], handback: bool = False
    ) -> Delivery:
        """Queue one event (in its own body) behind the conversation's earlier events;
        `handback`: control leaves Agent Workspace by it (for the delivery modes)."""
        delivery = Delivery(
            event=event, conversation_id=conversation_id, body=self.format.body(event)
        )
        self.deliveries[delivery.event_id] = delivery
        while len(self.deliveries) > MAX_KEPT:
            del self.deliveries[next(iter(self.deliveries))]
        if self.triggers is not None and event["type"] not in self.triggers:
            delivery.status = "skipped"  # the webhook is not subscribed to it
            return delivery
        key = conversation_id or ""
        waiting = self._awaiting_follower.get(key)
        exclude = frozenset({"reorder"}) if waiting is not None else frozenset()
        rules = self.modes.take(str(event["type"]), conversation_id, exclude, handback)
        delivery.modes = sorted(rules)
        delivery.duplicate = "duplicate" in rules
        if "drop" in rules or "hold" in rules:
            delivery.status = "dropped" if "drop" in rules else "held"
            logger.info(
                "%s %s %s %s",
                self.format.label,
                event["type"],
                delivery.event_id,
                delivery.status.upper(),
            )
            return delivery
        if waiting is not None:  # this event overtakes the one held for it
            del self._awaiting_follower[key]
            self._enqueue(delivery, None, before=waiting)
            assert waiting.reordered is not None
            waiting.reordered.set()
            return delivery
        if "reorder" in rules:
            delivery.reordered = asyncio.Event()
            delivery.reorder_wait = rules["reorder"].max_wait
            self._awaiting_follower[key] = delivery
        self._enqueue(delivery, None)
        return delivery

    async def redeliver(self, event_id: str) -> Optional[Delivery]:
        """Send an event again, same id and body (as a SunCo retry would), and wait for it."""
        delivery = self.deliveries.get(event_id)
        if delivery is None:
            return None
        delivery.redeliveries += 1
        return await self._send_now(delivery)

    async def release(self, event_id: str) -> Optional[Delivery]:
        """Deliver a held event now (behind what its conversation has queued) and wait for it.

        None if there is no such event; `ValueError` if it is not held."""
        delivery = self.deliveries.get(event_id)
        if delivery is None:
            return None
        if delivery.status != "held":
            raise ValueError(f"the event is {delivery.status}, not held")
        return await self._send_now(delivery)

    def release_together(self, event_ids: Sequence[str]) -> List[Delivery]:
        """Deliver held events in ONE post, as SunCo batches events (of any conversations) in
        one envelope, with the retry policy, in the background: the post is retried whole
        while any of its events fails. KeyError: no such event; ValueError: not held, fewer
        than two, or a webhook that carries one event per post."""
        held: List[Delivery] = []
        for event_id in dict.fromkeys(event_ids):
            delivery = self.deliveries.get(event_id)
            if delivery is None:
                raise KeyError(event_id)
            if delivery.status != "held":
                raise ValueError(f"event {event_id} is {delivery.status}, not held")
            held.append(delivery)
        if len(held) < 2:
            raise ValueError("name at least two held events")
        body = self.format.batch_body([delivery.event for delivery in held])
        batch = Delivery(event=held[0].event, conversation_id=None, body=body)
        for delivery in held:
            delivery.status = "pending"
            delivery.modes = sorted({*delivery.modes, "batched"})
            delivery.attempts = batch.attempts  # one post: its attempts are every event's
            delivery.invocation_id = batch.invocation_id
        key = f"batch:{batch.invocation_id}"
        self._idle.clear()
        loop = asyncio.get_running_loop()
        self._workers[key] = loop.create_task(self._deliver_batch(key, batch, held))
        return held

    async def _deliver_batch(self, key: str, batch: Delivery, held: List[Delivery]) -> None:
        try:
            await self._deliver(batch)
        finally:
            for delivery in held:
                delivery.status = batch.status if batch.status != "pending" else "cancelled"
            if self._workers.get(key) is asyncio.current_task():
                del self._workers[key]
            if not self._workers:
                self._idle.set()

    async def _send_now(self, delivery: Delivery) -> Delivery:
        delivery.status = "pending"
        waiter = asyncio.get_running_loop().create_future()
        self._enqueue(delivery, waiter)
        await waiter
        return delivery

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or in flight; False if that takes over `timeout`."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def _enqueue(
        self,
        delivery: Delivery,
        waiter: Optional[asyncio.Future],
        before: Optional[Delivery] = None,
    ) -> None:
        key = delivery.conversation_id or ""
        lane = self._lanes.setdefault(key, deque())
        index = next((i for i, (queued, _) in enumerate(lane) if queued is before), len(lane))
        lane.insert(index, (delivery, waiter))
        self._idle.clear()
        if key not in self._workers:
            self._workers[key] = asyncio.get_running_loop().create_task(self._drain(key))

    async def _drain(self, key: str) -> None:
        lane = self._lanes[key]
        try:
            while lane:
                delivery, waiter = lane[0]
                if delivery.reordered is not None and not delivery.reordered.is_set():
                    await self._await_follower(key, delivery)
                    continue  # the follower may now be first
                await self._deliver(delivery)
                lane.popleft()
                if waiter is not None and not waiter.done():
                    waiter.set_result(delivery)
        finally:
            if self._workers.get(key) is asyncio.current_task():
                del self._workers[key]
                if not lane:
                    self._lanes.pop(key, None)
            if not self._workers:
                self._idle.set()

    async def _await_follower(self, key: str, delivery: Delivery) -> None:
        assert delivery.reordered is not None
        try:
            await asyncio.wait_for(delivery.reordered.wait(), delivery.reorder_wait)
        except asyncio.TimeoutError:
            logger.info(
                "%s %s %s: no later event to swap it with; sent as it is",
                self.format.label,
                delivery.event["type"],
                delivery.event_id,
            )
        if self._awaiting_follower.get(key) is delivery:
            del self._awaiting_follower[key]
        delivery.reordered.set()

    async def _deliver(self, delivery: Delivery) -> None:
        if not self.urls:
            delivery.status = "skipped"
            logger.info(
                "%s %s %s not sent: no webhook URL configured",
                self.format.label,
                delivery.event["type"],
                delivery.event_id,
            )
            return
        data = json.dumps(delivery.body).encode("utf-8")
        attempts = len(self.retry_delays) + 1
        for number in range(1, attempts + 1):
            attempt = await self._attempt(delivery, data, number, attempts)
            if attempt.status is not None and 200 <= attempt.status < 300:
                break
            if attempt.status in NON_RETRYABLE or number == attempts:
                delivery.status = "failed"
                logger.warning(
                    "%s %s %s failed", self.format.label, delivery.event["type"], delivery.event_id
                )
                return
            await asyncio.sleep(self.retry_delays[number - 1])
        delivery.status = "delivered"
        if delivery.duplicate:  # SunCo did not see that 2xx: it retries, same id and body
            delivery.duplicate = False
            await asyncio.sleep(self.retry_delays[0] if self.retry_delays else 0)
            await self._attempt(delivery, data, number + 1, attempts, duplicate=True)

    async def _attempt(
        self, delivery: Delivery, data: bytes, number: int, attempts: int, duplicate: bool = False
    ) -> Attempt:
        """One POST of the delivery, to the next URL, recorded and logged."""
        url = self.urls[next(self._round_robin) % len(self.urls)]
        attempt = await self._post(delivery, number, url, data)
        attempt.duplicate = duplicate
        delivery.attempts.append(attempt)
        outcome = attempt.status if attempt.status is not None else attempt.error
        logger.info(
            "%s %s %s -> %s %s (attempt %d/%d%s, %d ms)",
            self.format.label,
            delivery.event["type"],
            delivery.event_id,
            _display(url),
            outcome,
            number,
            attempts,
            ", duplicate" if duplicate else "",
            attempt.duration_ms,
        )
        return attempt

    async def _post(self, delivery: Delivery, number: int, url: str, data: bytes) -> Attempt:
        assert self._session is not None, "WebhookSender.start() was not called"
        started, at = time.monotonic(), now_iso()
        status: Optional[int] = None
        error: Optional[str] = None
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "rasa-zendesk-emulator",
            **self.format.headers(delivery.invocation_id, data),
        }
        try:
            async with self._session.post(
                url,
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as response:
                await response.read()
                status = response.status
        except asyncio.TimeoutError:
            error = f"timeout after {self.timeout:g} s"
        except (aiohttp.ClientError, ValueError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        duration = int((time.monotonic() - started) * 1000)
        return Attempt(number, url, status, error, at, duration)
