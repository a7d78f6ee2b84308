"""Fault and latency injection for API calls: what tests of retries and timeouts need."""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, StrictBool, conint, constr, root_validator

from .ids import new_id


class FaultRequest(BaseModel):
    """Body of `POST /_emulator/faults`."""

    method: Optional[constr(strict=True, regex=r"(?i)^(GET|POST|PUT|PATCH|DELETE|HEAD)$")] = None
    pathContains: constr(strict=True, min_length=1)
    status: Optional[conint(strict=True, ge=400, le=599)] = None
    hang: StrictBool = False
    count: conint(strict=True, ge=1, le=100000) = 1
    retryAfter: Optional[conint(strict=True, ge=0, le=3600)] = None

    @root_validator(skip_on_failure=True)
    def _status_or_hang(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if bool(values.get("status")) == bool(values.get("hang")):
            raise ValueError('give either "status" (429, 500, ...) or "hang": true')
        return values


@dataclass
class Fault:
    id: str
    method: Optional[str]
    path_contains: str
    status: Optional[int]
    hang: bool
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
        return {
            "id": self.id,
            "method": self.method,
            "pathContains": self.path_contains,
            "status": self.status,
            "hang": self.hang,
            "remaining": self.remaining,
            "retryAfter": self.retry_after,
            "hits": self.hits,
        }


class FaultInjector:
    """Holds the armed faults and the added latency; the API middleware consults it."""

    def __init__(self) -> None:
        self.faults: List[Fault] = []
        self.latency_ms = 0

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

    def reset(self) -> None:
        self.faults.clear()
        self.latency_ms = 0
