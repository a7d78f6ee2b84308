"""Fixtures of the channel tests (`testkit.channel_fixtures`)."""

from testkit.channel_fixtures import (  # noqa: F401 (fixtures)
    db_path_fixture,
    handoff_fixture,
    moved_clock_fixture,
    parametrize_rasa,
    rasa_fixture,
    redis_service_fixture,
)

pytest_generate_tests = parametrize_rasa
