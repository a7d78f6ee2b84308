"""HandoffPolicy and its frustration signals (Rasa server side).

`rasa_zendesk.policy.HandoffPolicy` is exported lazily, so that `rasa_zendesk.policy.signals`
can be used without importing Rasa.
"""

from typing import Any

__all__ = ["HandoffPolicy"]


def __getattr__(name: str) -> Any:
    if name == "HandoffPolicy":
        from rasa_zendesk.policy.handoff_policy import HandoffPolicy

        return HandoffPolicy
    raise AttributeError(f"module 'rasa_zendesk.policy' has no attribute {name!r}")
