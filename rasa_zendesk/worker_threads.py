"""A few named daemon threads that run blocking calls for the event loop, one pool per kind of
work, so that one kind stuck (a platform's API hanging, a tracker store that stopped
answering) holds only its own threads: never the loop's default executor, which Rasa and the
HTTP clients' name lookups share, nor another kind's.

Daemon threads: a call that hangs never keeps the server from stopping (the default
executor's threads would be waited for). A call cancelled before a thread took it is dropped,
never run late.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, Tuple, TypeVar

T = TypeVar("T")


class DaemonPool:
    """`threads` daemon threads named `rasa-zendesk-<name>-<n>`, taking calls in turn."""

    def __init__(self, name: str, threads: int) -> None:
        self._work: queue.SimpleQueue[Tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        for number in range(threads):
            threading.Thread(
                target=self._run, name=f"rasa-zendesk-{name}-{number}", daemon=True
            ).start()

    def submit(self, call: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._work.put((future, call))
        return future

    async def run(self, call: Callable[[], T]) -> T:
        """`call()` in one of the threads, awaited (cancelling the await drops a call that no
        thread took yet)."""
        return await asyncio.wrap_future(self.submit(call))

    def _run(self) -> None:
        while True:
            future, call = self._work.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as error:  # the call's own failure, for its awaiter
                future.set_exception(error)


_pools: Dict[str, DaemonPool] = {}
_pools_lock = threading.Lock()


def named_pool(name: str, threads: int) -> DaemonPool:
    """The process's one pool of that name, made on its first use (a platform's sends, the
    tracker store's reads and writes: `platforms.outputs.send_pool`, `tracker_cache.base`)."""
    with _pools_lock:
        pool = _pools.get(name)
        if pool is None:
            pool = _pools[name] = DaemonPool(name, threads)
        return pool
