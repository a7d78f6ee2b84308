"""The Support API's authentication, asked live: an OAuth client's credentials get a token, or
the static OAuth token works; how long the token lives and whether it has the scopes the
plugin uses (Zendesk's `GET /api/v2/oauth/tokens/current.json`). An API token FAILs in the
settings already (Zendesk stops them on 30 Apr 2027). Never a token or a secret shown."""

from __future__ import annotations

from typing import List, Tuple

from rasa_zendesk import clock
from rasa_zendesk.ops.doctor.result import Findings
from rasa_zendesk.settings import ZendeskSettings
from rasa_zendesk.tickets import support_api
from rasa_zendesk.tickets.support_api import SupportApiError

AREA = "zendesk"
#: A static token that expires sooner than this is a WARN.
EXPIRY_WARNING_DAYS = 14
TIMEOUT = 10.0
CLIENT_FIX = (
    "check support_oauth_client_id and support_oauth_client_secret (Admin Center > Apps and "
    "integrations > APIs > OAuth clients; kind confidential)"
)
TOKEN_FIX = (
    "create an OAuth access token (or better, set support_oauth_client_id and "
    "support_oauth_client_secret: tokens are then fetched and refreshed by themselves)"
)


def needed_scopes(connector: ZendeskSettings) -> List[Tuple[str, str]]:
    """(scope, what needs it) for what this connector does with the Support API."""
    needed = [("tickets:write", "the CSAT rating written to the ticket (action_zendesk_csat)")]
    if connector.business_hours_from_zendesk or connector.check_agent_availability:
        needed.append(("read", "business hours and agents online read from Zendesk"))
    return needed


async def check_support(connector: ZendeskSettings, findings: Findings) -> None:
    name = f"connector {connector.name} Support API"
    if not connector.support_auth_configured:
        findings.noted(
            AREA,
            name,
            "not configured: CSAT ratings stay in the tracker, not on the ticket "
            "(set support_oauth_client_id and support_oauth_client_secret)",
        )
        return
    client = connector.support_oauth_client_id
    try:
        info = await support_api.token_info(connector, TIMEOUT)
    except SupportApiError as error:
        refused = error.status in (401, 403)
        if client and "/oauth/tokens" in str(error):
            detail = f"OAuth client {client} gets no token: {error}"
        else:
            detail = f"the OAuth token does not work: {error}"
        fix = (CLIENT_FIX if client else TOKEN_FIX) if refused else "check support_api_url"
        findings.failed(AREA, name, detail, fix)
        return
    if client:
        findings.passed(
            AREA,
            name,
            f"OAuth client {client} gets tokens (client_credentials), refreshed before they expire",
        )
    else:
        _check_expiry(info.expires_at, findings, name)
    missing = [
        (s, why) for s, why in needed_scopes(connector) if not support_api.grants(info.scopes, s)
    ]
    for scope, why in missing:
        findings.warned(
            AREA,
            f"{name} scopes",
            f"the token lacks {scope} (has {' '.join(info.scopes) or 'none'}): {why} will fail",
            f"give the token or the OAuth client the scope {scope}"
            + (" (support_oauth_scope)" if client else ""),
        )
    if not missing:
        findings.passed(AREA, f"{name} scopes", " ".join(info.scopes))


def _check_expiry(expires_at: float | None, findings: Findings, name: str) -> None:
    if expires_at is None:
        findings.passed(AREA, name, "the OAuth token works and does not expire")
        return
    days = (expires_at - clock.now()) / 86400
    if days < EXPIRY_WARNING_DAYS:
        findings.warned(
            AREA,
            name,
            f"the OAuth token expires in {max(days, 0):.1f} days",
            TOKEN_FIX,
        )
    else:
        findings.passed(AREA, name, f"the OAuth token works, expires in {days:.0f} days")
