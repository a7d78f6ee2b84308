"""The action server (a real process) against the emulator process (`testkit.action_emulator`)."""

from testkit.action_emulator import (  # noqa: F401 (fixtures)
    emulator_process_fixture,
    zendesk_fixture,
)
