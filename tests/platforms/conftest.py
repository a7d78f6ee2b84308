"""The platforms' stand-ins, a Rasa server whose callback channel posts to its stand-in, and
Rasa servers with a platform's own input channel (`testkit.choices`)."""

from testkit.choices import offered_fixture, stop_after_fixture  # noqa: F401 (fixtures)
from testkit.platforms import (  # noqa: F401 (fixtures)
    callback_fixture,
    graph_api_fixture,
    slack_api_fixture,
    telegram_api_fixture,
    twilio_api_fixture,
)
from testkit.reach import rasa_fixture  # noqa: F401 (fixture)
from testkit.refusals import stack_fixture  # noqa: F401 (fixture)
