"""The timers' loop: once a second, fire what is due (see the package's docstring).

Each conversation's timer fails alone: a failure (the user's channel refused the notice, the
store had a hiccup) puts that conversation off for a while, 2 s, then 4, 8, ... at most a
minute, and the others fire on time. After `MAX_TRIES` tries whose delivery failed, the handoff
ends as `failed` (`handlers.timer.give_up`). The tries are counted in memory: the handoff's
record is the truth, and a restart only begins the count again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from rasa_zendesk import clock
from rasa_zendesk.channel.timers.watchlist import RecordObserver, Watchlist, watchlist_for
from rasa_zendesk.channel.write_path import DeliveryError, RasaContext

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
#: A round that keeps failing (a store down) is logged with its traceback this often.
FAILURE_LOG_SECONDS = 60.0
#: A conversation whose timer failed is tried again this long after, doubling each time,
RETRY_FIRST_SECONDS = 2.0
#: up to this,
RETRY_MAX_SECONDS = 60.0
#: and after this many tries that the user's channel refused, its handoff ends as `failed`.
MAX_TRIES = 5


@dataclass
class Failing:
    """A conversation whose timer failed: how often, and when to try again."""

    attempts: int = 0
    #: The attempts that failed to reach the user (`DeliveryError`).
    undelivered: int = 0
    retry_at: float = 0.0

    @property
    def given_up(self) -> bool:
        return self.undelivered >= MAX_TRIES


class TimerLoop:
    """Runs in the Rasa server next to the channel; `processor` fires the timers."""

    def __init__(
        self,
        processor: Any,
        poll_seconds: float = POLL_SECONDS,
        observe: Optional[RecordObserver] = None,
    ) -> None:
        self.processor = processor
        self.poll_seconds = poll_seconds
        #: Told of every handoff record the watchlist reads (the channel's metrics).
        self.observe = observe
        self._watchlist: Optional[Watchlist] = None
        self._due: Dict[str, float] = {}  # sender id -> when to look again (never late)
        self._failing: Dict[str, Failing] = {}  # sender id -> its timer's failures
        self._task: Optional[asyncio.Task[None]] = None

    def start(self, app: Any) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(app))

    async def stop(self) -> None:
        if self._watchlist is not None:
            self._watchlist.close()
            self._watchlist = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, app: Any) -> None:
        logged_at = float("-inf")
        while True:
            started = time.monotonic()
            try:
                await self.tick(app)
            except asyncio.CancelledError:
                raise
            except Exception:  # a failing store must not stop the timers for good
                if time.monotonic() - logged_at >= FAILURE_LOG_SECONDS:
                    logged_at = time.monotonic()
                    logger.exception("Handoff timers: a round failed; trying every second")
            # A round starts every `poll_seconds` (a new handoff is seen within that).
            await asyncio.sleep(max(0.0, self.poll_seconds - (time.monotonic() - started)))

    async def tick(self, app: Any) -> None:
        """One round: find the running handoffs, fire those whose deadline has passed."""
        agent = getattr(app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return  # the bot is not loaded yet
        rasa = self.processor.context(agent, getattr(app.ctx, "input_channels", None) or [])
        store = rasa.trackers.store
        if self._watchlist is None or self._watchlist.store is not store:
            if self._watchlist is not None:
                self._watchlist.close()
            self._watchlist = watchlist_for(rasa.trackers, rasa.config.handoff, self.observe)
            self._due, self._failing = {}, {}
        running = await self._watchlist.refresh()
        for sender_id in self._watchlist.changed:
            self._due.pop(sender_id, None)
        self._due.update(self._watchlist.due())
        now = clock.now()
        for sender_id in list(running):
            failing = self._failing.get(sender_id)
            if (failing.retry_at if failing else self._due.get(sender_id, now)) > now:
                continue
            await self._fire(rasa, sender_id, failing, now)

    async def _fire(
        self, rasa: RasaContext, sender_id: str, failing: Optional[Failing], now: float
    ) -> None:
        """Fire one conversation's timer (or give up on it); a failure stays with it."""
        try:
            if failing is not None and failing.given_up:
                await self.processor.give_up_timers(rasa, sender_id)
                upcoming = None
            else:
                upcoming = await self.processor.fire_timers(rasa, sender_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._failed(sender_id, error, now)
            return
        self._failing.pop(sender_id, None)
        assert self._watchlist is not None
        self._watchlist.scheduled(sender_id, upcoming)
        if upcoming is None:
            self._due.pop(sender_id, None)
        else:
            self._due[sender_id] = upcoming.at

    def _failed(self, sender_id: str, error: Exception, now: float) -> None:
        """Put the conversation off (backoff); give up at the next round after the last try."""
        failing = self._failing.setdefault(sender_id, Failing())
        failing.attempts += 1
        delivery = isinstance(error, DeliveryError)
        if delivery:
            failing.undelivered += 1
        wait = min(RETRY_FIRST_SECONDS * 2 ** (failing.attempts - 1), RETRY_MAX_SECONDS)
        last_try = delivery and failing.given_up
        failing.retry_at = now if last_try else now + wait
        logger.warning(
            "Handoff timer of sender %s failed (try %d%s): %r; %s",
            sender_id,
            failing.attempts,
            f", {failing.undelivered} of {MAX_TRIES} not delivered" if delivery else "",
            error,
            "the handoff ends as failed" if last_try else f"trying again in {wait:.0f} s",
            exc_info=not delivery,
        )
