"""Fault and latency injection for API calls: what tests of retries and timeouts need.

A fault answers the next matching calls with an error status, or holds them without an answer
(`hang`). By default the call is not applied; with `after` it is applied first (stored, its
webhooks sent) and then answered with the error or not at all, as SunCo sometimes does: the
client cannot tell from the answer whether its write happened.
"""

import asyncio
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Set

from pydantic import BaseModel, StrictBool, conint, constr, root_validator

from .ids import camel_view, new_id


class FaultRequest(BaseModel):
    """Body of `POST /_emulator/faults`."""

    method: Optional[constr(strict=True, regex=r"(?i)^(GET|POST|PUT|PATCH|DELETE|HEAD)$")] = None
    pathContains: constr(strict=True, min_length=1)
    status: Optional[conint(strict=True, ge=400, le=599)] = None
    hang: StrictBool = False
    after: StrictBool = False
    count: conint(strict=True, ge=1, le=100000) = 1
    retryAfter: Optional[conint(strict=True, ge=0, le=3600)] = None

    @root_validator(skip_on_failure=True)
    def _status_or_hang(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if bool(values.get("status")) == bool(values.get("hang")):
            raise ValueError('give either "status" (429, 500, ...) or "hang": true')
        if values.get("after") and values.get("status") == 429:
            raise ValueError('SunCo never applies a call it answers 429: no "after" with 429')
        return values


@dataclass
class Fault:
    id: str
    method: Optional[str]
    path_contains: str
    status: Optional[int]
    hang: bool
    after: bool
    remaining: int
    retry_after: Optional[int]
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method == method.upper())
            and self.path_contains in path
        )

    def to_json(self) -> Dict[str, Any]:
        return camel_view(self)


class FaultInjector:
    """Holds the armed faults and the added latency; the API middleware consults it."""

    def __init__(self) -> None:
        self.faults: List[Fault] = []
        self.latency_ms = 0
        self.hanging: Set[asyncio.Task] = set()  # calls held by a hang fault right now
        self.stopping = False

    async def end_hangs(self, timeout: float = 2.0) -> None:
        """At shutdown: let the held calls end (a client may have left them already)."""
        self.stopping = True
        if self.hanging:
            await asyncio.wait(set(self.hanging), timeout=timeout)

    def add(self, request: FaultRequest) -> Fault:
        retry_after = request.retryAfter
        if request.status == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(
            id=new_id(),
            method=request.method.upper() if request.method else None,
            path_contains=request.pathContains,
            status=request.status,
            hang=request.hang,
            after=request.after,
            remaining=request.count,
            retry_after=retry_after,
        )
        self.faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Optional[Fault]:
        """The first armed fault for this call, used up by one."""
        for fault in self.faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                fault.hits += 1
                return fault
        return None

    def give_back(self, fault: Fault) -> None:
        """An `after` fault whose call was refused (nothing applied) stays armed."""
        fault.remaining += 1
        fault.hits -= 1

    def reset(self) -> None:
        self.faults.clear()
        self.latency_ms = 0
