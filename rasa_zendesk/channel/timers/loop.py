"""The timers' loop: once a second, fire what is due (see the package's docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Dict, Optional

from rasa_zendesk import clock
from rasa_zendesk.channel.timers.watchlist import RecordObserver, Watchlist, watchlist_for

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
#: A round that keeps failing (a store down) is logged with its traceback this often.
FAILURE_LOG_SECONDS = 60.0


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
        self._task: Optional[asyncio.Task[None]] = None

    def start(self, app: Any) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(app))

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, app: Any) -> None:
        logged_at = float("-inf")
        while True:
            try:
                await self.tick(app)
            except asyncio.CancelledError:
                raise
            except Exception:  # a failing store must not stop the timers for good
                if time.monotonic() - logged_at >= FAILURE_LOG_SECONDS:
                    logged_at = time.monotonic()
                    logger.exception("Handoff timers: a round failed; trying every second")
            await asyncio.sleep(self.poll_seconds)

    async def tick(self, app: Any) -> None:
        """One round: find the running handoffs, fire those whose deadline has passed."""
        agent = getattr(app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return  # the bot is not loaded yet
        rasa = self.processor.context(agent, getattr(app.ctx, "input_channels", None) or [])
        store = rasa.trackers.store
        if self._watchlist is None or self._watchlist.store is not store:
            self._watchlist, self._due = watchlist_for(store, self.observe), {}
        running = await self._watchlist.refresh()
        for sender_id in self._watchlist.changed:
            self._due.pop(sender_id, None)
        now = clock.now()
        for sender_id in list(running):
            if self._due.get(sender_id, now) > now:
                continue
            upcoming = await self.processor.fire_timers(rasa, sender_id)
            if upcoming is None:
                self._watchlist.forget(sender_id)
                self._due.pop(sender_id, None)
            else:
                self._due[sender_id] = upcoming.at
