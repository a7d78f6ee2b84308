"""The platforms the plugin serves, by Rasa's channel name (`InputChannel.name()`).

Adding a platform is one module (a `Platform` subclass and its `PLATFORM`) and one line in
`PLATFORMS` (see docs/platforms.md). A channel not listed here gets `DEFAULT`: its own
`get_output_channel()`, Rasa's generic shapes, no typing, no files of its own.

Importing this loads no Rasa module: the action server asks it about users' files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Optional

from rasa_zendesk.platforms import callback, messenger, rest, slack, socketio, telegram, twilio
from rasa_zendesk.platforms.base import Platform

if TYPE_CHECKING:
    from rasa.core.channels.channel import OutputChannel

PLATFORMS: Dict[str, Platform] = {
    platform.name: platform
    for platform in (
        socketio.PLATFORM,
        rest.PLATFORM,
        slack.PLATFORM,
        twilio.PLATFORM,
        telegram.PLATFORM,
        messenger.PLATFORM,
        callback.PLATFORM,
    )
}
#: Any other channel (a custom one).
DEFAULT = Platform()


def named(name: Optional[str]) -> Platform:
    """The platform of the input channel called `name` (`DEFAULT` for one not listed)."""
    return PLATFORMS.get(name or "", DEFAULT)


def of_output(output: OutputChannel) -> Platform:
    """The platform whose Rasa output class `output` is (`DEFAULT` for any other)."""
    for platform in PLATFORMS.values():
        if platform.owns(output):
            return platform
    return DEFAULT
