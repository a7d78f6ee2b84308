"""Everything about one Rasa channel, one module each: where an agent's message goes, which
output channel it uses and whether that blocks, how an agent's rich message is shown and the
platform's limits, typing, whether a message reaches a person, and users' files coming in.

`registry` finds a platform by Rasa's channel name; `base` is what every platform answers (and
the answers for a channel the plugin does not know); `rich` is the platform-neutral model of an
agent's message; `outputs` is how the Rasa server reaches a user through them. This package sits
below `rasa_zendesk.channel` and `rasa_zendesk.actions` and imports neither.
"""
