"""The emulator as a command: `python -m rasa_zendesk.emulator` and `rasa-zendesk emulator`."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from rasa_zendesk import cli
from rasa_zendesk.emulator import EmulatorConfig
from rasa_zendesk.emulator.config import (
    LOCAL_RASA_WEBHOOK,
    environment_lines,
    parse_config,
    write_env_file,
)
from rasa_zendesk.emulator.testing import EmulatorProcess
from rasa_zendesk.settings import ENV_FILE, read_env_file
from testkit.emulator_support import WebhookReceiver


def test_module_help_lists_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rasa_zendesk.emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--port", "--app-id", "--key-id", "--key-secret", "--webhook-url"):
        assert option in result.stdout
    assert "--webhook-secret" in result.stdout and "--webhook-retry-delays" in result.stdout
    help_text = " ".join(result.stdout.split())
    for option, default in (
        ("--ticket-webhook-url", "default none"),
        ("--ticket-webhook-secret", "default tkwh_demo"),
        ("--ticket-webhook-api-key", "not sent"),
        ("--ticket-webhook-api-key-header", "default X-API-Key"),
        ("--apps-file", "POST /_emulator/apps"),
        ("--webhook-secret", "default whsec_demo"),
        ("--port", "default 8090"),
    ):
        assert option in help_text and default in help_text, option


def test_console_script_has_the_emulator_command(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["emulator", "--help"])
    assert exited.value.code == 0
    assert "rasa-zendesk emulator" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        cli.main([])
    assert exited.value.code == 2


def test_defaults_are_the_demo_settings() -> None:
    config, quiet = parse_config([])
    assert (config.host, config.port, config.app_id) == ("127.0.0.1", 8090, "app_demo")
    assert (config.key_id, config.key_secret) == ("key_demo", "secret_demo")
    assert config.webhook_secret == "whsec_demo" and config.webhook_urls == []
    assert config.webhook_retry_delays == (0.5, 1.0, 2.0, 4.0) and not quiet
    assert "secret_demo" not in repr(config) and "whsec_demo" not in repr(config)
    config, _ = parse_config(["--webhook-url", "http://a/x", "--webhook-url", "http://b/x"])
    assert config.webhook_urls == ["http://a/x", "http://b/x"]
    assert parse_config(["--webhook-retry-delays", "0.1,0.2"])[0].webhook_retry_delays == (0.1, 0.2)
    with pytest.raises(SystemExit):
        parse_config(["--webhook-retry-delays", "soon"])


def test_ticket_webhook_options() -> None:
    config, _ = parse_config([])
    assert (config.ticket_webhook_urls, config.ticket_webhook_secret) == ([], "tkwh_demo")
    assert config.ticket_webhook_api_key is None
    assert config.ticket_webhook_api_key_header == "X-API-Key" and config.apps == []
    config, _ = parse_config(
        [
            "--ticket-webhook-url",
            "http://a/t",
            "--ticket-webhook-url",
            "http://b/t",
            "--ticket-webhook-secret",
            "tk-secret-9",
            "--ticket-webhook-api-key",
            "tk-key-9",
            "--ticket-webhook-api-key-header",
            "X-Rasa-Key",
            "--account-id",
            "42",
        ]
    )
    assert config.ticket_webhook_urls == ["http://a/t", "http://b/t"]
    assert (config.ticket_webhook_secret, config.ticket_webhook_api_key) == (
        "tk-secret-9",
        "tk-key-9",
    )
    assert (config.ticket_webhook_api_key_header, config.account_id) == ("X-Rasa-Key", 42)
    assert "tk-secret-9" not in repr(config) and "tk-key-9" not in repr(config)
    with pytest.raises(SystemExit):
        parse_config(["--ticket-webhook-api-key-header", "X-Zendesk-Webhook-Signature"])


@pytest.mark.timeout(60)
async def test_the_process_serves_logs_and_stops_cleanly(receiver: WebhookReceiver) -> None:
    config = EmulatorConfig(
        app_id="app_cli",
        key_id="key_cli",
        key_secret="cli-key-secret",
        webhook_secret="cli-webhook-secret",
        webhook_retry_delays=(0.05,),
        ticket_webhook_urls=["http://127.0.0.1:9/tickets"],
        ticket_webhook_secret="cli-ticket-secret",
        ticket_webhook_api_key="cli-ticket-key",
    )
    emulator = EmulatorProcess([receiver.url], config=config)
    await asyncio.to_thread(emulator.start)
    try:
        auth = aiohttp.BasicAuth("key_cli", "cli-key-secret")
        base = f"{emulator.api_url}/v2/apps/app_cli"
        async with aiohttp.ClientSession(auth=auth) as session:
            async with session.post(base + "/users", json={"externalId": "u1"}) as response:
                assert response.status == 201
            body = {"type": "personal", "participants": [{"userExternalId": "u1"}]}
            async with session.post(base + "/conversations", json=body) as response:
                assert response.status == 201
            async with session.get(emulator.base_url + "/", allow_redirects=False) as response:
                assert response.status == 302 and response.headers["Location"] == "/console"
        await receiver.wait_for(lambda r: r.events("conversation:create"))
        assert receiver.received[0].headers["X-API-Key"] == "cli-webhook-secret"
        assert emulator.control("GET", "/health") == {"status": "ok", "appId": "app_cli"}
        tickets = emulator.control("GET", "/ticket-webhook-config")
        assert tickets["urls"] == ["http://127.0.0.1:9/tickets"] and tickets["apiKeySet"] is True
    finally:
        await asyncio.to_thread(emulator.stop)
    assert emulator.process is not None and emulator.process.returncode == 0
    output = emulator.output()
    assert f"API base URL:  {emulator.api_url}" in output
    assert f"Agent console: {emulator.base_url}/console" in output
    assert "POST /sc/v2/apps/app_cli/users -> 201" in output
    assert re.search(r"webhook conversation:create \w+ -> \S+ 200 \(attempt \d/2", output), output
    assert "cli-key-secret" not in output and "cli-webhook-secret" not in output
    assert "cli-ticket-secret" not in output and "cli-ticket-key" not in output
    assert "Ticket webhooks to: http://127.0.0.1:9/tickets" in output
    assert "Stopping the emulator." in output


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "rasa_zendesk.emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_ticket_webhooks_go_next_to_the_webhook_unless_told_otherwise() -> None:
    rasa = "http://localhost:5005/webhooks/zendesk"
    config, _ = parse_config(
        ["--webhook-url", f"{rasa}/webhook", "--webhook-url", f"{rasa}/b/webhook"]
    )
    assert config.ticket_webhook_urls == [f"{rasa}/ticket_status", f"{rasa}/b/ticket_status"]
    assert parse_config(["--webhook-url", "http://a/hooks"])[0].ticket_webhook_urls == []
    told = ["--webhook-url", f"{rasa}/webhook", "--ticket-webhook-url", "http://t/x"]
    assert parse_config(told)[0].ticket_webhook_urls == ["http://t/x"]
    off = ["--webhook-url", f"{rasa}/webhook", "--no-ticket-webhook"]
    assert parse_config(off)[0].ticket_webhook_urls == []
    with pytest.raises(SystemExit):
        parse_config(["--no-ticket-webhook", "--ticket-webhook-url", "http://t/x"])


def test_the_settings_file_holds_what_both_servers_need(tmp_path: Path) -> None:
    path = tmp_path / ENV_FILE
    config, _ = parse_config(
        [
            "--webhook-url",
            LOCAL_RASA_WEBHOOK,
            "--key-secret",
            "own-key-secret-1",
            "--env-file",
            str(path),
        ]
    )
    write_env_file(path, config, "http://127.0.0.1:8090/sc")
    values = read_env_file(path)  # read as the servers read it
    assert values["ZENDESK_KEY_SECRET"] == "own-key-secret-1"
    assert values["ZENDESK_API_URL"] == "http://127.0.0.1:8090/sc"
    assert values["ZENDESK_TICKET_WEBHOOK_SECRET"] == "tkwh_demo"
    assert {
        "ZENDESK_SUBDOMAIN",
        "ZENDESK_APP_ID",
        "ZENDESK_KEY_ID",
        "ZENDESK_WEBHOOK_SECRET",
    } < set(values)
    assert path.stat().st_mode & 0o077 == 0  # it holds the key: its owner's only
    printed = environment_lines(config, "http://127.0.0.1:8090/sc")
    assert "export ZENDESK_KEY_SECRET=<the --key-secret you gave>" in printed
    assert "export ZENDESK_TICKET_WEBHOOK_SECRET=tkwh_demo" in printed


@pytest.mark.timeout(60)
def test_the_command_writes_the_settings_file_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / ENV_FILE
    emulator = EmulatorProcess([LOCAL_RASA_WEBHOOK], extra_args=["--env-file", str(path)])
    emulator.start()
    try:
        assert read_env_file(path)["ZENDESK_API_URL"] == emulator.api_url
        tickets = emulator.control("GET", "/ticket-webhook-config")
        assert tickets["urls"] == []  # the test stand-in asked for none
    finally:
        emulator.stop()
    assert f"Wrote these settings to {path}" in emulator.output()


def test_a_settings_file_it_cannot_write_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa_zendesk.emulator",
            "--port",
            "0",
            "--env-file",
            str(tmp_path / "no" / "zendesk.env"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"cannot write {tmp_path / 'no' / 'zendesk.env'}" in result.stderr
