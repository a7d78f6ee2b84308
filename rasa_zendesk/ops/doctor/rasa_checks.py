"""The running Rasa server (`--rasa-url`): the channel's routes answer, refuse a webhook without
the secret (401) and take one with it; the metrics route likewise when metrics are on."""

from __future__ import annotations

from typing import Optional

import httpx

from rasa_zendesk.channel.config import ChannelConfig
from rasa_zendesk.ops.doctor.result import Findings
from rasa_zendesk.ops.doctor.zendesk_checks import webhook_path
from rasa_zendesk.settings import ZendeskSettings

AREA = "rasa"
TIMEOUT = 10.0
CHANNEL_FIX = "start the server with the credentials.yml that has rasa_zendesk.ZendeskInput"


async def check_rasa(rasa_url: str, config: Optional[ChannelConfig], findings: Findings) -> None:
    base = rasa_url.rstrip("/")
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http:
        try:
            health = await http.get("/webhooks/zendesk/health")
        except httpx.HTTPError as error:
            findings.failed(
                AREA,
                "server",
                f"{base} does not answer ({type(error).__name__})",
                "start `rasa run`, or correct --rasa-url",
            )
            return
        if health.status_code != 200:
            findings.failed(
                AREA,
                "channel",
                f"/webhooks/zendesk/health answered {health.status_code}",
                CHANNEL_FIX,
            )
            return
        findings.passed(AREA, "channel", f"{base}/webhooks/zendesk/health answers")
        if config is None:
            findings.noted(AREA, "webhook", "not tried: the settings above do not load")
            return
        for connector in config.connectors.by_name.values():
            await _check_webhook(http, connector, findings)
        if config.metrics and config.metrics_token:
            await _check_metrics(http, config.metrics_token, findings)


async def _check_webhook(
    http: httpx.AsyncClient, connector: ZendeskSettings, findings: Findings
) -> None:
    path = webhook_path(connector)
    what = f"webhook {path}"
    body = {
        "app": {"id": connector.app_id},
        "webhook": {"id": "doctor", "version": "v2"},
        "events": [],
    }
    refused = await http.post(path, json=body)
    if refused.status_code != 401:
        findings.failed(
            AREA,
            what,
            f"answered {refused.status_code} without the secret, not 401",
            CHANNEL_FIX if refused.status_code == 404 else "update rasa-zendesk on the server",
        )
        return
    findings.passed(AREA, f"{what} without the secret", "401")
    taken = await http.post(path, json=body, headers={"X-API-Key": connector.webhook_secret})
    if taken.status_code == 200:
        findings.passed(AREA, f"{what} with the secret", "200")
    elif taken.status_code == 401:
        findings.failed(
            AREA,
            f"{what} with the secret",
            "401: the server has another webhook_secret than these settings",
            "give the Rasa server and this doctor the same ZENDESK_WEBHOOK_SECRET",
        )
    else:
        findings.failed(
            AREA,
            f"{what} with the secret",
            f"answered {taken.status_code}",
            "see the Rasa server's log (503: the model is still loading)",
        )


async def _check_metrics(http: httpx.AsyncClient, token: str, findings: Findings) -> None:
    what = "metrics /webhooks/zendesk/metrics"
    answer = await http.get(
        "/webhooks/zendesk/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    if answer.status_code == 200:
        findings.passed(AREA, what, "200 with the token")
    else:
        findings.failed(
            AREA,
            what,
            f"answered {answer.status_code} with the token",
            "give the server the same metrics and metrics_token settings",
        )
