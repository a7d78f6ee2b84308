"""The agent console page and the media it serves (the browser test clicks through it)."""

from __future__ import annotations

import re
from pathlib import Path

import rasa_zendesk.emulator
from testkit.emulator_support import SunCoApi

STATIC = Path(rasa_zendesk.emulator.__file__).with_name("static")


def documented_test_ids() -> list:
    html = (STATIC / "console.html").read_text()
    header = html.split("Stable hooks for browser tests", 1)[1].split("-->", 1)[0]
    return re.findall(r"^    ([a-z][a-z-]+)\s", header, flags=re.M)


async def test_the_console_page_and_its_assets_are_served(api: SunCoApi) -> None:
    base = api.server.base_url
    async with api.session.get(base + "/", allow_redirects=False) as response:
        assert response.status == 302 and response.headers["Location"] == "/console"
    async with api.session.get(base + "/console") as response:
        assert response.status == 200 and response.content_type == "text/html"
        html = await response.text()
    async with api.session.get(base + "/console/static/console.js") as response:
        assert response.status == 200 and "javascript" in response.content_type
        script = await response.text()
    async with api.session.get(base + "/console/static/console.css") as response:
        assert response.status == 200 and response.content_type == "text/css"
    assert "/console/static/console.js" in html and "/console/static/console.css" in html
    assert "/_emulator/queue" in script and "/agent-message" in script and "/solve" in script


def test_every_documented_test_id_exists_and_nothing_comes_from_the_internet() -> None:
    ids = documented_test_ids()
    assert len(ids) >= 20 and "solve-button" in ids and "reply-input" in ids
    html = (STATIC / "console.html").read_text()
    script = (STATIC / "console.js").read_text()
    for test_id in ids:
        assert (
            f'data-testid="{test_id}"' in html or f'"data-testid": "{test_id}"' in script
        ), test_id
    for path in STATIC.iterdir():
        text = path.read_text()
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), path.name
        assert "@import" not in text and "url(http" not in text, path.name


async def test_sample_media_are_served(api: SunCoApi) -> None:
    samples = api.server.base_url + "/_emulator/samples/"
    for name, media_type, magic in [
        ("receipt.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        ("agent-avatar.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        ("invoice.pdf", "application/pdf", b"%PDF-1.4"),
    ]:
        async with api.session.get(samples + name) as response:
            assert response.status == 200 and response.content_type == media_type
            data = await response.read()
            assert data.startswith(magic) and 100 < len(data) < 20_000
    pdf = await (await api.session.get(samples + "invoice.pdf")).read()
    assert b"Invoice #1001" in pdf and pdf.rstrip().endswith(b"%%EOF")
    async with api.session.get(samples + "nothing.gif") as response:
        assert response.status == 404


def test_an_open_handoff_has_solve_close_and_move_to_email() -> None:
    html = (STATIC / "console.html").read_text()
    script = (STATIC / "console.js").read_text()
    for test_id, label in (
        ("email-button", "Move to email"),
        ("solve-button", "Solve"),
        ("close-button", "Close"),
    ):
        assert re.search(rf'data-testid="{test_id}"[^>]*>{label}</button>', html, re.S), test_id
    # Solve sets the ticket solved; Close is the hand-back of /solve; Move to email, its reason.
    handlers = dict(
        re.findall(r'el\.(\w+)\.addEventListener\("click", \(\) => \{(.*?)\n  \}\);', script, re.S)
    )
    assert 'act(conversationPath("/ticket"), { status: "solved" })' in handlers["solve"]
    assert 'act(conversationPath("/solve"))' in handlers["close"]
    assert '{ reason: "transferToEmail" }' in handlers["email"]
    for test_id in ("ticket", "ticket-id", "ticket-status", "ticket-subject", "ticket-tags"):
        assert test_id in documented_test_ids()
    assert "queue-item-app" in documented_test_ids() and "conversation-app" in html


async def test_the_queue_shows_each_conversations_app_and_ticket(api: SunCoApi) -> None:
    conversation = await api.handed_off()
    metadata = {"dataCapture.systemField.subject": "Help", "dataCapture.systemField.tags": "a,b"}
    await api.pass_control(conversation["id"], "zd-agentWorkspace", metadata)
    (shown,) = (await api.control("GET", "/queue"))["conversations"]
    assert shown["appId"] == "app_demo"
    assert {k: shown["ticket"][k] for k in ("id", "status", "subject", "tags")} == {
        "id": 1001,
        "status": "new",
        "subject": "Conversation with Jane Doe",  # from the handoff, not a later passControl
        "tags": [],
    }


def test_the_agents_switch_and_the_schedule_show_what_the_support_api_says() -> None:
    html = (STATIC / "console.html").read_text()
    script = (STATIC / "console.js").read_text()
    assert {"agents-online-toggle", "support-schedule"} <= set(documented_test_ids())
    assert re.search(r'data-testid="agents-online-toggle"[^>]*role="switch"', html, re.S)
    assert 'call("GET", "/_emulator/support")' in script
    # The switch posts the opposite of what the server says; the schedule shows its words.
    assert re.search(
        r'el\.agentsOnline\.addEventListener\("click".*?!\(state\.support && '
        r'state\.support\.agentsOnline\).*?"/_emulator/support", \{ agentsOnline: online \}',
        script,
        re.S,
    )
    assert "support.inWords" in script and '"data-testid": "support-schedule-line"' in script
