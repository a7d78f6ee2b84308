"""The SunCo apps one emulator serves: one `Emulator` per app, found by app id, by the
conversation a control call names, or by the control API's `app` query parameter.

Each app has its own key, users, conversations, webhooks and tickets; conversation ids are
unique across apps (SunCo ids), so a conversation id alone finds its app.
"""

from typing import Dict, Iterator, List, Optional, Tuple

from aiohttp import web

from .apps import AppBody
from .config import EmulatorConfig
from .engine import Emulator
from .errors import CONVERSATION_NOT_FOUND, ApiError
from .store import Attachment, Conversation

APP_QUERY = "app"


class AppRegistry:
    """The apps by id; the default app (the config's own settings) comes first."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._apps: Dict[str, Emulator] = {}
        self._running = False
        self.default = self._register(Emulator(config))
        for app in config.apps:
            self._register(self._emulator_for(app))

    def __iter__(self) -> Iterator[Emulator]:
        return iter(list(self._apps.values()))

    def _emulator_for(self, app: AppBody) -> Emulator:
        if app.appId in self._apps:
            raise ApiError(409, "conflict", f"An app with id {app.appId!r} exists already")
        if any(e.config.key_id == app.keyId for e in self._apps.values()):
            raise ApiError(409, "conflict", f"Another app has the key id {app.keyId!r}")
        taken = {e.config.account_id for e in self._apps.values()}
        account_id = max(taken) + 1
        return Emulator(self.config.for_app(app, account_id))

    def _register(self, emulator: Emulator) -> Emulator:
        self._apps[emulator.app_id] = emulator
        return emulator

    async def add(self, app: AppBody) -> Emulator:
        """A new app, serving at once (409 if its app id or key id is taken)."""
        emulator = self._emulator_for(app)
        if self._running:
            await emulator.start()
        return self._register(emulator)

    async def start(self) -> None:
        self._running = True
        for emulator in self:
            await emulator.start()

    async def end_hangs(self) -> None:
        for emulator in self:
            await emulator.faults.end_hangs()

    async def close(self) -> None:
        self._running = False
        for emulator in self:
            await emulator.close()

    def get(self, app_id: Optional[str]) -> Optional[Emulator]:
        return self._apps.get(app_id) if app_id is not None else None

    def require(self, app_id: str) -> Emulator:
        emulator = self._apps.get(app_id)
        if emulator is None:
            raise ApiError(404, "app_not_found", "App not found")
        return emulator

    def conversation(self, conversation_id: str) -> Tuple[Emulator, Conversation]:
        """The conversation and its app, from any app (404 if none has it)."""
        for emulator in self:
            found = emulator.store.conversations.get(conversation_id)
            if found is not None:
                return emulator, found
        raise ApiError(404, *CONVERSATION_NOT_FOUND)

    def attachment(self, attachment_id: str) -> Optional[Tuple[Emulator, Attachment]]:
        for emulator in self:
            found = emulator.store.attachments.get(attachment_id)
            if found is not None:
                return emulator, found
        return None

    def app_of(self, request: web.Request) -> Emulator:
        """The app a control call is about: `?app=<appId>`, else the default app."""
        app_id = request.query.get(APP_QUERY)
        return self.require(app_id) if app_id else self.default

    def apps_of(self, request: web.Request) -> List[Emulator]:
        """The app named by `?app=`, else every app (for views and reset)."""
        app_id = request.query.get(APP_QUERY)
        return [self.require(app_id)] if app_id else list(self)


APPS = web.AppKey("apps", AppRegistry)


def registry(request: web.Request) -> AppRegistry:
    return request.app[APPS]
