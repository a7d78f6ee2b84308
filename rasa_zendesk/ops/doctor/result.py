"""What the doctor found: one line per check, PASS / WARN / FAIL with the fix, or a NOTE.

A NOTE is said, never counted: what a check could not prove (against the emulator, say).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

PASS, WARN, FAIL, NOTE = "PASS", "WARN", "FAIL", "NOTE"


@dataclass(frozen=True)
class Check:
    status: str
    area: str  # bot, settings, zendesk, rasa
    name: str
    detail: str
    fix: Optional[str] = None


@dataclass
class Findings:
    """Every check, in the order they ran."""

    checks: List[Check] = field(default_factory=list)

    def add(
        self, status: str, area: str, name: str, detail: str, fix: Optional[str] = None
    ) -> Check:
        check = Check(status, area, name, detail, fix if status in (WARN, FAIL) else None)
        self.checks.append(check)
        return check

    def passed(self, area: str, name: str, detail: str) -> Check:
        return self.add(PASS, area, name, detail)

    def failed(self, area: str, name: str, detail: str, fix: str) -> Check:
        return self.add(FAIL, area, name, detail, fix)

    def warned(self, area: str, name: str, detail: str, fix: str) -> Check:
        return self.add(WARN, area, name, detail, fix)

    def noted(self, area: str, name: str, detail: str) -> Check:
        return self.add(NOTE, area, name, detail)

    @property
    def ok(self) -> bool:
        """Nothing failed: the doctor exits 0."""
        return not any(check.status == FAIL for check in self.checks)

    def counts(self) -> Dict[str, int]:
        return {s: sum(1 for c in self.checks if c.status == s) for s in (PASS, WARN, FAIL)}

    def as_json(self) -> str:
        return json.dumps(
            {"ok": self.ok, "counts": self.counts(), "checks": [asdict(c) for c in self.checks]},
            indent=2,
        )

    def as_text(self, title: str) -> str:
        lines = [title]
        for check in self.checks:
            lines.append(f"{check.status:<5} {check.area:<9} {check.name}: {check.detail}")
            if check.fix:
                lines.append(f"{'':16}fix: {check.fix}")
        counts = self.counts()
        lines.append(", ".join(f"{counts[s]} {s}" for s in (FAIL, WARN, PASS)))
        return "\n".join(lines)
