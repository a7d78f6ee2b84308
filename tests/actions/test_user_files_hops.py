"""Every hop of a user's file is checked: each redirect's target must be a trusted host, and
every address a name resolves to must be public unless the operator listed that exact
`host:port`; the request goes to the address that was checked. Whatever stops a fetch, the
user is told the same words (the detail is only logged): a status and a refused connection
must not tell a port scan apart.

The user's platform is a loopback stand-in (`test_user_files.Platform`), listed explicitly as
the e2e stack lists its own; names that would need DNS are given addresses by `_resolve`.
"""

from __future__ import annotations

import logging
from typing import Dict, Iterator, List, Tuple

import pytest

from rasa_zendesk.actions import user_files
from rasa_zendesk.actions.user_files import FileRefused, UserFileSettings
from testkit.processes import free_ports
from testkit.user_files import PNG, Platform

pytestmark = pytest.mark.timeout(30)

#: Short: a fetch the old code let through to an unroutable address fails in this time.
TIMEOUT = 3.0


@pytest.fixture
def platforms() -> Iterator[Tuple[Platform, Platform]]:
    """A listed platform and another loopback server nobody listed."""
    servers = (Platform(), Platform())
    for server in servers:
        server.thread.start()
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def resolved(monkeypatch: pytest.MonkeyPatch) -> Dict[str, List[str]]:
    """Names and the addresses they resolve to (others resolve as the system does); each
    lookup is recorded under "asked"."""
    table: Dict[str, List[str]] = {"asked": []}
    real = user_files._resolve

    async def resolve(host: str, port: int) -> List[str]:
        table["asked"].append(host)
        return table[host] if host in table else await real(host, port)

    monkeypatch.setattr(user_files, "_resolve", resolve)
    return table


def redirect(platform: Platform, path: str, to: str) -> str:
    platform.files[path] = (302, {"Location": to}, b"")
    return platform.url(path)


async def refused(url: str, files: UserFileSettings) -> str:
    with pytest.raises(FileRefused) as refusal:
        await user_files.fetch(url, TIMEOUT, files=files)
    return str(refusal.value)


async def test_a_redirect_to_a_host_not_listed_is_refused(
    platforms: Tuple[Platform, Platform],
) -> None:
    listed, other = platforms
    other.serve("/secret.png", PNG, "image/png")
    start = redirect(listed, "/u/photo.png", other.url("/secret.png"))

    reason = await refused(start, UserFileSettings((listed.host,)))

    assert reason == user_files.UNFETCHED
    assert other.fetched("/secret.png") == 0


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{other}/secret.png",
        "http://localhost:{other}/secret.png",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.20.30.40/admin",
        "http://internal.example.com/admin",
    ],
)
async def test_a_redirect_from_a_listed_host_to_an_internal_address_is_refused(
    platforms: Tuple[Platform, Platform],
    resolved: Dict[str, List[str]],
    target: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The target's host is listed by name ("localhost", "internal.example.com"; `10.*`
    even as a subnet-like name), so only the address check can refuse it."""
    listed, other = platforms
    other.serve("/secret.png", PNG, "image/png")
    resolved["internal.example.com"] = ["10.0.0.7"]
    files = UserFileSettings(
        (listed.host, "localhost", "internal.example.com", "169.254.169.254", "10.20.30.40")
    )
    start = redirect(listed, "/u/photo.png", target.format(other=other.server_address[1]))

    with caplog.at_level(logging.WARNING, logger=user_files.__name__):
        reason = await refused(start, files)

    assert reason == user_files.UNFETCHED
    assert other.fetched("/secret.png") == 0
    assert listed.fetched("/u/photo.png") == 1
    assert "not a public address" in caplog.text or "not a trusted host" in caplog.text


async def test_a_listed_name_that_resolves_to_a_private_address_is_refused_unless_exact(
    platforms: Tuple[Platform, Platform], resolved: Dict[str, List[str]]
) -> None:
    listed, _ = platforms
    port = listed.server_address[1]
    listed.serve("/u/photo.png", PNG, "image/png")
    resolved["files.example.com"] = ["127.0.0.1"]
    url = f"http://files.example.com:{port}/u/photo.png"

    assert await refused(url, UserFileSettings(("example.com",))) == user_files.UNFETCHED
    assert await refused(url, UserFileSettings(("files.example.com",))) == user_files.UNFETCHED
    assert listed.fetched("/u/photo.png") == 0

    fetched = await user_files.fetch(
        url, TIMEOUT, files=UserFileSettings((f"files.example.com:{port}",))
    )
    assert fetched.file.read() == PNG and fetched.media_type == "image/png"


async def test_the_request_goes_to_the_address_that_was_checked(
    platforms: Tuple[Platform, Platform], resolved: Dict[str, List[str]]
) -> None:
    """One lookup per hop, and the connection to its answer (no second lookup a rebinding
    name could answer differently): a name no DNS knows reaches the stand-in."""
    listed, _ = platforms
    port = listed.server_address[1]
    listed.serve("/u/photo.png", PNG, "image/png")
    resolved["files.invalid"] = ["127.0.0.1"]

    fetched = await user_files.fetch(
        f"http://files.invalid:{port}/u/photo.png",
        TIMEOUT,
        files=UserFileSettings((f"files.invalid:{port}",)),
    )

    assert fetched.file.read() == PNG
    assert resolved["asked"] == ["files.invalid"]


async def test_a_missing_file_and_a_closed_port_are_told_alike(
    platforms: Tuple[Platform, Platform], caplog: pytest.LogCaptureFixture
) -> None:
    listed, _ = platforms
    closed = f"127.0.0.1:{free_ports(1)[0]}"
    files = UserFileSettings((listed.host, closed))

    with caplog.at_level(logging.WARNING, logger=user_files.__name__):
        missing = await refused(listed.url("/u/gone.pdf"), files)
        unreachable = await refused(f"http://{closed}/u/gone.pdf", files)

    assert missing == unreachable == user_files.UNFETCHED
    assert "HTTP 404" in caplog.text and "ConnectError" in caplog.text  # the detail: logged


async def test_a_redirect_within_the_listed_host_is_followed_and_bounded(
    platforms: Tuple[Platform, Platform],
) -> None:
    listed, _ = platforms
    listed.serve("/u/photo.png", PNG, "image/png")
    files = UserFileSettings((listed.host,))
    start = redirect(listed, "/u/short", "/u/photo.png")  # relative, as Location may be
    assert (await user_files.fetch(start, TIMEOUT, files=files)).file.read() == PNG

    loop = redirect(listed, "/u/loop", "/u/loop")
    assert await refused(loop, files) == user_files.UNFETCHED
    assert listed.fetched("/u/loop") == user_files.MAX_REDIRECTS + 1
