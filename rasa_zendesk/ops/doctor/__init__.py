"""`rasa-zendesk doctor`: a bot's handoff setup checked end to end, with the fix for each
problem. Exit status 0 only when nothing FAILs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from rasa_zendesk.ops.doctor.bot_checks import check_bot
from rasa_zendesk.ops.doctor.project import Project
from rasa_zendesk.ops.doctor.rasa_checks import check_rasa
from rasa_zendesk.ops.doctor.result import Findings
from rasa_zendesk.ops.doctor.settings_checks import check_settings
from rasa_zendesk.ops.doctor.support_checks import check_support
from rasa_zendesk.ops.doctor.zendesk_checks import check_zendesk


@dataclass(frozen=True)
class DoctorOptions:
    project: Path
    offline: bool = False
    public_url: Optional[str] = None
    rasa_url: Optional[str] = None
    actions: str = "actions"
    instances: Optional[int] = None


async def diagnose(options: DoctorOptions) -> Findings:
    """Every check: the bot's files, the settings, Zendesk (unless offline), the Rasa server."""
    findings = Findings()
    project = Project(options.project.resolve())
    check_bot(project, findings, options.actions, options.instances)
    config = check_settings(project.channel_credentials(), findings)
    if options.offline:
        findings.noted("zendesk", "live checks", "skipped (--offline)")
    elif config is not None:
        for connector in config.connectors.by_name.values():
            await check_zendesk(connector, findings, options.public_url)
            await check_support(connector, findings)
    if options.rasa_url:
        await check_rasa(options.rasa_url, config, findings)
    return findings


def run(options: DoctorOptions, as_json: bool = False) -> int:
    """Print the findings (text or JSON); the exit status."""
    findings = asyncio.run(diagnose(options))
    print(
        findings.as_json()
        if as_json
        else findings.as_text(f"rasa-zendesk doctor: {options.project.resolve()}")
    )
    return 0 if findings.ok else 1
