"""Rasa's socket.io channel for several Rasa instances: emits travel through Redis.

With Rasa's own `socketio` channel a bot message can only reach a socket held by the instance
that sends it. Behind a load balancer the agent's reply (a Zendesk webhook) may land on one
instance while the user's socket is held by another; python-socketio's `AsyncRedisManager`
publishes every emit on a Redis channel that all instances listen to, so each instance delivers
to the sockets it holds. Everything else (events, session persistence, JWT, metadata) is Rasa's
channel unchanged, under the same name, so web chat widgets and `output_channel=latest` work as
before.

    rasa_zendesk.RedisSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      redis_url: redis://redis.internal:6379/0   # required; same on every instance
      redis_channel: socketio                    # optional; one per bot sharing a Redis

The Redis channel carries pickled messages (python-socketio's format): only trusted processes
may publish on it, so keep that Redis private to the bot's instances.

One difference from python-socketio's manager: when Redis cannot take an emit (after one
reconnect), the emit raises instead of being logged and dropped, so a Zendesk webhook is answered
5xx and retried by SunCo rather than acknowledged for a message nobody received.
"""

from __future__ import annotations

import inspect
import logging
import pickle
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from redis.exceptions import RedisError
from sanic import Blueprint
from socketio import AsyncRedisManager, AsyncServer

logger = logging.getLogger(__name__)

DEFAULT_REDIS_CHANNEL = "socketio"


class RaisingRedisManager(AsyncRedisManager):
    """python-socketio's Redis manager, whose emits fail loudly when Redis is unreachable."""

    async def _publish(self, data: Any) -> Any:
        message = pickle.dumps(data)  # the format every instance's listener reads
        try:
            return await self.redis.publish(self.channel, message)
        except RedisError:
            logger.warning("Cannot publish to Redis; reconnecting once")
            self._redis_connect()
            return await self.redis.publish(self.channel, message)


class RedisSocketIOInput(SocketIOInput):
    """`SocketIOInput` whose socket.io server shares its rooms through Redis."""

    def __init__(
        self,
        *args: Any,
        redis_url: Optional[str] = None,
        redis_channel: str = DEFAULT_REDIS_CHANNEL,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not redis_url or not str(redis_url).strip():
            raise ValueError(
                "rasa_zendesk.RedisSocketIOInput needs 'redis_url' in credentials.yml "
                "(e.g. redis://localhost:6379/0), the same on every Rasa instance"
            )
        if not str(redis_channel).strip():
            raise ValueError("rasa_zendesk.RedisSocketIOInput: 'redis_channel' must not be empty")
        self.redis_url = str(redis_url).strip()
        self.redis_channel = str(redis_channel).strip()

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Rasa's socket.io credentials plus `redis_url` (required) and `redis_channel`."""
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", False),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
            redis_url=credentials.get("redis_url"),
            redis_channel=credentials.get("redis_channel") or DEFAULT_REDIS_CHANNEL,
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint, with a Redis client manager and an awaited `enter_room`."""
        socketio_blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None, "SocketIOInput.blueprint() sets self.sio"
        # Equivalent to AsyncServer(client_manager=...): the server has no client yet, and the
        # manager starts listening on Redis when the first client connects.
        manager = RaisingRedisManager(self.redis_url, channel=self.redis_channel)
        sio.manager = manager
        manager.set_server(sio)
        sio.manager_initialized = False
        # Rasa 3.6 calls `sio.enter_room` without awaiting it; python-socketio >= 5.10 made it a
        # coroutine (hence the `<5.10` pin). Ours awaits it when needed, so it works either way.
        sio.on("session_request", namespace=self.namespace)(self._session_request_handler(sio))
        return socketio_blueprint

    def _session_request_handler(
        self, sio: AsyncServer
    ) -> Callable[[str, Optional[Dict]], Awaitable[None]]:
        async def session_request(sid: str, data: Optional[Dict]) -> None:
            if data is None:
                data = {}
            if data.get("session_id") is None:
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, data["session_id"])
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", data["session_id"], room=sid)
            logger.debug(f"User {sid} connected to socketIO endpoint.")

        return session_request
