"""Rasa <-> Zendesk agent handoff.

Bot authors name `rasa_zendesk.ZendeskInput` in credentials.yml and `rasa_zendesk.HandoffPolicy`
in config.yml. The exports are lazy so that the action server and the emulator, which need
neither, do not pay for importing Rasa's channel and policy machinery.
"""

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "ZendeskInput": "rasa_zendesk.channel.input",
    "HandoffPolicy": "rasa_zendesk.policy.handoff_policy",
    "RedisSocketIOInput": "rasa_zendesk.scaleout.socketio_redis",
}

__all__ = ["ZendeskInput", "HandoffPolicy", "RedisSocketIOInput", "__version__"]


def __getattr__(name: str) -> Any:
    module_path = _LAZY.get(name)
    if module_path is None:
        raise AttributeError(f"module 'rasa_zendesk' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_path), name)
