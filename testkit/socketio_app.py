"""A Sanic server with only `RedisSocketIOInput`, mounted as Rasa mounts input channels, for
testing the channel across processes without a trained bot.

Its stand-in agent answers each user message with `echo:<text>` through the message's own output
channel and records it; `POST /send` emits bot texts through `get_output_channel()`, as the
Zendesk webhook does for agent replies.

    python -m testkit.socketio_app --port 5011 --redis-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
from typing import Any, Dict, List

from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_zendesk.scaleout.socketio_redis import RedisSocketIOInput


class EchoAgent:
    """Stands in for Rasa's agent: records each message and echoes it to its sender."""

    def __init__(self) -> None:
        self.received: List[Dict[str, Any]] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(
            {
                "sender_id": message.sender_id,
                "text": message.text,
                "input_channel": message.input_channel,
                "metadata": message.metadata,
            }
        )
        await message.output_channel.send_text_message(message.sender_id, f"echo:{message.text}")


def create_app(name: str, credentials: Dict[str, Any]) -> Sanic:
    app = Sanic(name)
    channel = RedisSocketIOInput.from_credentials(credentials)
    agent = EchoAgent()
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")

    @app.get("/")
    async def ready(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.post("/send")
    async def send(request: Request) -> HTTPResponse:
        output = channel.get_output_channel()
        assert output is not None
        for text in request.json["texts"]:
            await output.send_text_message(request.json["recipient_id"], text)
        return response.json({"sent": len(request.json["texts"])})

    @app.get("/received")
    async def received(_: Request) -> HTTPResponse:
        return response.json(agent.received)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--session-persistence", action="store_true")
    args = parser.parse_args()
    credentials = {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": args.session_persistence,
        "redis_url": args.redis_url,
    }
    app = create_app(f"socketio_app_{args.port}", credentials)
    app.run(host="127.0.0.1", port=args.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
