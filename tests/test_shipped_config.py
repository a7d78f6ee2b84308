"""The shipped credentials and endpoints files load the way `rasa run` loads them, with only
the environment variables the README says are required, and stop start-up naming a required
one that is missing.

`rasa run` reads the credentials with `rasa.core.run.create_http_input_channels` (every channel
built from its entry; `ZendeskInput` validates its settings there) and the endpoints with
`AvailableEndpoints.read_endpoints`; Rasa's YAML reader expands `${VAR}` and refuses an unset
one. The lock stores are built as Rasa builds them (`LockStore.create`); a Redis client connects
only on its first command, so no server is needed. The SQLite tracker store of the default
endpoints is built too; the scale-out PostgreSQL one is checked as Rasa would build its URL.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from rasa.core.channels.channel import InputChannel
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.core.run import create_http_input_channels
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.exceptions import RasaException

from rasa_zendesk.channel.input import ZendeskInput
from rasa_zendesk.scaleout.redis_lock_store import AtomicRedisLockStore
from rasa_zendesk.scaleout.socketio_redis import RedisSocketIOInput
from rasa_zendesk.settings import SettingsError

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
SEVERAL_INSTANCES = (REPO / "docs" / "several-instances.md").read_text()

#: README, "Zendesk-side setup", step 4: what the Rasa server of the default setup needs.
DEFAULT_REQUIRED = {
    "ZENDESK_SUBDOMAIN": "acme",
    "ZENDESK_APP_ID": "app_shipped",
    "ZENDESK_KEY_ID": "key_shipped",
    "ZENDESK_KEY_SECRET": "keysecret_shipped_9d1e",
    "ZENDESK_WEBHOOK_SECRET": "whsec_shipped_41c7",
}
#: docs/several-instances.md, the Environment bullet: the default's, and these.
SCALEOUT_REQUIRED = {
    **DEFAULT_REQUIRED,
    "ACTION_SERVER_URL": "http://actions.internal:5055/webhook",
    "TRACKER_DB_HOST": "db.internal",
    "TRACKER_DB_PORT": "5432",
    "TRACKER_DB_NAME": "rasa",
    "TRACKER_DB_USER": "rasa",
    "TRACKER_DB_PASSWORD": "dbpassword_shipped_5b2a",
    "REDIS_HOST": "redis.internal",
    "REDIS_PORT": "6379",
    "SOCKETIO_REDIS_URL": "redis://redis.internal:6379/0",
}
OPTIONAL = {"ZENDESK_API_URL"}

SHIPPED = ("credentials.yml", "endpoints.yml", "credentials.scaleout.yml", "endpoints.scaleout.yml")
DEFAULT = ("credentials.yml", "endpoints.yml", DEFAULT_REQUIRED)
SCALEOUT = ("credentials.scaleout.yml", "endpoints.scaleout.yml", SCALEOUT_REQUIRED)
SETUPS = [pytest.param(*DEFAULT, id="default"), pytest.param(*SCALEOUT, id="scaleout")]
REQUIRED_VARIABLES = [
    pytest.param(credentials, endpoints, required, variable, id=f"{name}-{variable}")
    for name, (credentials, endpoints, required) in (("default", DEFAULT), ("scaleout", SCALEOUT))
    for variable in required
]

Deployment = Tuple[List[InputChannel], AvailableEndpoints]


def only(monkeypatch: pytest.MonkeyPatch, variables: Dict[str, str]) -> None:
    """The environment holds these of the variables any shipped file or the channel reads."""
    zendesk = {name for name in os.environ if name.startswith("ZENDESK_")}
    referenced = zendesk | set(SCALEOUT_REQUIRED) | OPTIONAL
    for name in SHIPPED:
        referenced |= set(re.findall(r"\$\{(\w+)\}", (REPO / name).read_text()))
    for name in referenced:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def load(credentials: str, endpoints: str) -> Deployment:
    """What `rasa run --credentials ... --endpoints ...` reads and builds before serving."""
    channels = create_http_input_channels(None, str(REPO / credentials))
    return channels, AvailableEndpoints.read_endpoints(str(REPO / endpoints))


def zendesk_of(channels: List[InputChannel]) -> ZendeskInput:
    [zendesk] = [channel for channel in channels if isinstance(channel, ZendeskInput)]
    return zendesk


@pytest.mark.parametrize("credentials, endpoints, required", SETUPS)
def test_the_files_load_with_only_the_required_variables(
    monkeypatch: pytest.MonkeyPatch, credentials: str, endpoints: str, required: Dict[str, str]
) -> None:
    only(monkeypatch, required)

    channels, loaded = load(credentials, endpoints)

    assert sorted(channel.name() for channel in channels) == ["rest", "socketio", "zendesk"]
    settings = zendesk_of(channels).config.settings
    assert (settings.subdomain, settings.app_id, settings.key_id) == (
        "acme",
        "app_shipped",
        "key_shipped",
    )
    assert settings.key_secret == required["ZENDESK_KEY_SECRET"]
    assert settings.webhook_secret == required["ZENDESK_WEBHOOK_SECRET"]
    assert settings.base_url == "https://acme.zendesk.com/sc"  # ZENDESK_API_URL unset
    assert loaded.action is not None and loaded.action.url
    assert loaded.tracker_store is not None and loaded.tracker_store.type == "SQL"


def test_the_default_files_build_their_stores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    only(monkeypatch, DEFAULT_REQUIRED)
    monkeypatch.chdir(tmp_path)  # the SQLite file is relative to the working directory
    channels, endpoints = load("credentials.yml", "endpoints.yml")

    store = TrackerStore.create(endpoints.tracker_store, domain=Domain.load(REPO / "domain.yml"))

    assert isinstance(store, SQLTrackerStore)
    assert isinstance(LockStore.create(endpoints.lock_store), InMemoryLockStore)
    assert {type(channel) for channel in channels} == {RestInput, SocketIOInput, ZendeskInput}


def test_the_scaleout_files_build_what_several_instances_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    only(monkeypatch, SCALEOUT_REQUIRED)
    channels, endpoints = load("credentials.scaleout.yml", "endpoints.scaleout.yml")

    [socketio] = [channel for channel in channels if channel.name() == "socketio"]
    assert isinstance(socketio, RedisSocketIOInput)
    assert socketio.redis_url == SCALEOUT_REQUIRED["SOCKETIO_REDIS_URL"]

    lock_store = LockStore.create(endpoints.lock_store)  # connects on its first command only
    assert isinstance(lock_store, AtomicRedisLockStore)
    connection = lock_store.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"]) == ("redis.internal", 6379)

    tracker_store = endpoints.tracker_store
    assert tracker_store is not None
    assert (tracker_store.type, tracker_store.kwargs["dialect"]) == ("SQL", "postgresql")
    url = SQLTrackerStore.get_db_url(
        host=tracker_store.url,
        **{key: tracker_store.kwargs[key] for key in ("dialect", "port", "db", "username")},
        password=tracker_store.kwargs["password"],
    )
    assert (url.host, url.port, url.database, url.username) == ("db.internal", 5432, "rasa", "rasa")
    assert endpoints.action is not None
    assert endpoints.action.url == SCALEOUT_REQUIRED["ACTION_SERVER_URL"]


@pytest.mark.parametrize("credentials, endpoints, required, variable", REQUIRED_VARIABLES)
def test_a_missing_required_variable_stops_start_up_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    credentials: str,
    endpoints: str,
    required: Dict[str, str],
    variable: str,
) -> None:
    only(monkeypatch, {name: value for name, value in required.items() if name != variable})

    with pytest.raises((RasaException, SettingsError)) as failure:
        load(credentials, endpoints)

    message = str(failure.value)
    assert variable in message
    for secret in (value for name, value in required.items() if "SECRET" in name):
        assert secret not in message


def test_the_readme_lists_exactly_these_variables() -> None:
    """The two lists above are the docs': each required name is there, and every name the
    README and docs/several-instances.md give is required, except ZENDESK_API_URL, which they
    call optional."""
    step = re.search(r"^4\. Set (.*?)\n\n", README, re.M | re.S)
    bullet = re.search(r"^- \*\*Environment:\*\*(.*?)\n(?:\n|- )", SEVERAL_INSTANCES, re.M | re.S)
    assert step is not None and bullet is not None
    names = re.compile(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`")
    assert set(names.findall(step.group(1))) == set(DEFAULT_REQUIRED) | OPTIONAL
    assert set(names.findall(bullet.group(1))) == set(SCALEOUT_REQUIRED) | OPTIONAL
    assert "unset" in step.group(1) and "optional" in bullet.group(1)
