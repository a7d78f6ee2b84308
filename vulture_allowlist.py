"""What vulture cannot see used (`make lint`; pyproject.toml [tool.vulture] adds the decorators
and names frameworks call). Every entry says who uses it; anything else it flags is dead."""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# Rasa calls these on a policy (a GraphComponent), with these parameters.
_.get_default_config
_.required_packages
_.train
_.predict_action_probabilities
_.training_trackers
_.rule_only_data
# Rasa: on an input channel; on a lock store (redis_lock_store).
_.get_metadata
_.update_lock
_.finish_serving
_.issue_ticket
# Rasa: on an output channel (platforms/outputs.py AgentOutput passes each on by name).
_.send_attachment
# Named in a bot's credentials.yml and endpoints.yml, loaded by Rasa by their dotted path.
_.TwilioMediaInput
_.TelegramMediaInput
_.SlackHandoffInput
_.AtomicRedisLockStore
# python-socketio's client manager (socketio_redis); prometheus_client's Collector (metrics).
_._publish
_.manager_initialized
_.collect
# `__aexit__(*exc_info)`; a logging filter's LogRecord.msg (attachment_links).
_.exc_info
_.msg
# The policy benchmark (bench/) empties the sentiment cache for cold runs.
_.cache_clear
# The emulator's process API for tests of a bot (rasa_zendesk.emulator docstring).
_.EmulatorProcess
# The offer's slot (handoff/offer.py) records when it was made, as the handoff's record does:
# data in the tracker store for the people who read a conversation (docs/architecture.md).
_.offered_at
# Fields the emulator shows by name through `ids.camel_view` (control API, SunCo's switchboard).
_.hits
_.deliver_standby_events
# Fields of wire formats, read and written by pydantic: SunCo's API objects (sunco/models.py,
# sunco/webhooks.py) and request bodies the emulator accepts (emulator/bodies.py).
_.alias_generator
_.allow_population_by_field_name
_.given_name
_.surname
_.locale
_.zendesk_id
_.authenticated
_.pending_switchboard_integration
_.media_size
_.original_message_id
_.before_cursor
_.after_cursor
_.recent_notifications
_.givenName
_.avatarUrl
_.subscribeSDKClient
_.htmlText
_.markdownText
_.blockChatInput
_.destination
_.override
_.schema_
# What Rasa's Telegram handler reads of an update, checked by pydantic (platforms/telegram.py);
# the Accept header Sanic parses and keeps on a request (channel/error_pages.py).
_.update_id
_.chat
_.longitude
_.latitude
_.parsed_accept
# Rasa's output classes call these overrides (platforms/twilio.py, platforms/callback.py).
_._send_message
_._persist_message
