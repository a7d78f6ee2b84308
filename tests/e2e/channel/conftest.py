"""The channel tests' fixtures (`testkit.channel_fixtures`) for the channel against the emulator."""

from testkit.channel_fixtures import (  # noqa: F401 (fixtures)
    handoff_fixture,
    moved_clock_fixture,
    parametrize_rasa,
    rasa_fixture,
    redis_service_fixture,
)

pytest_generate_tests = parametrize_rasa
