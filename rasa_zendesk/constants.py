"""Names shared by the channel (Rasa server), the policy, and the actions (action server).

They are the contract between processes: the tracker store carries these slots and metadata
keys from one to the other, so each name is defined once, here.
"""

# Slots (the handoff state lives in the tracker store, never only in process memory).
#: The handoff's record (state, SunCo conversation, times, reasons): see `handoff.state`.
SLOT_HANDOFF = "zendesk_handoff"
#: The Zendesk connector a conversation escalates to, when the bot chooses (see `settings`).
SLOT_CONNECTOR = "zendesk_connector"
#: What the user was offered when no agent could answer (see `handoff.offer`).
SLOT_OFFER = "zendesk_offer"
#: Why the policy escalated, set by the policy for the escalation action to report: an
#: `escalation.EscalationReason` as data (`as_slot`).
SLOT_HANDOFF_REASON = "zendesk_handoff_reason"
#: How the latest handoff ended, for the bot's next flow: `handoff.endings.outcome`.
SLOT_HANDOFF_OUTCOME = "zendesk_handoff_outcome"
#: Who the customer is, across channels: the SunCo user's `externalId` when set (by the bot's
#: login flow, or from the user message's metadata key of the same name), else the sender id.
SLOT_EXTERNAL_ID = "zendesk_external_id"

# Intents.
INTENT_HUMAN_HANDOFF = "human_handoff"
INTENT_END_HANDOFF = "end_handoff"
#: A front end's poll (`/zendesk_poll`): answered only with what is pending for the user.
INTENT_POLL = "zendesk_poll"
#: Rasa's intent for a message its NLU did not understand (FallbackClassifier).
INTENT_NLU_FALLBACK = "nlu_fallback"

# Actions.
ACTION_HANDOFF = "action_zendesk_handoff"
ACTION_RELAY = "action_zendesk_relay"
ACTION_END_HANDOFF = "action_zendesk_end_handoff"
#: Answers the offer made when no agent can answer: leave a message (asks an email), or not.
ACTION_LEAVE_MESSAGE = "action_zendesk_leave_message"
#: Hands out the messages a user's channel could not push (see `handoff.pending`).
ACTION_HAND_OUT = "action_zendesk_hand_out"
#: Records the user's rating of an ended handoff and writes it to the ticket (CSAT).
ACTION_CSAT = "action_zendesk_csat"
#: The slots `action_zendesk_csat` reads (a bot's CSAT form fills them): 1 to 5, and text.
SLOT_CSAT_RATING = "zendesk_csat_rating"
SLOT_CSAT_COMMENT = "zendesk_csat_comment"
#: The CSAT form's validation (a bot that names its form `zendesk_csat_form` lists it): an
#: answer that is not 1 to 5 is asked again once, "no" or "skip" ends the form unrated.
ACTION_VALIDATE_CSAT_FORM = "validate_zendesk_csat_form"

# Responses: the plugin utters them, the bot's domain gives their text.
#: Said at once when the user asks for a human, before any call to Zendesk.
UTTER_CONNECTING = "utter_zendesk_connecting"
UTTER_HANDOFF_STARTED = "utter_zendesk_handoff_started"
UTTER_HANDOFF_FAILED = "utter_zendesk_handoff_failed"
UTTER_RELAY_FAILED = "utter_zendesk_relay_failed"
UTTER_ATTACHMENT_REFUSED = "utter_zendesk_attachment_refused"
#: A file the agent could not get (`{file}`: its name, `{reason}`: why, in words).
UTTER_FILE_REFUSED = "utter_zendesk_file_refused"
#: A user message given up (Zendesk refused it, or it failed too many relays): `{reason}`.
UTTER_MESSAGE_NOT_RELAYED = "utter_zendesk_message_not_relayed"
#: A message over the limits per message: `{left_out}` names what did not reach the agent.
UTTER_MESSAGE_CUT = "utter_zendesk_message_cut"
UTTER_HANDOFF_ENDED = "utter_zendesk_handoff_ended"
#: Said when the agent moved the conversation to email (`{email}`: where it goes on).
UTTER_TRANSFERRED_TO_EMAIL = "utter_zendesk_transferred_to_email"
#: Asked when the bot's NLU thinks the user wants to leave the agent (Rasa renders it itself).
#: Said before the first agent message: who joined (`{agent_name}`).
UTTER_AGENT_JOINED = "utter_zendesk_agent_joined"
#: Said when no agent came in time, with the user's three choices.
UTTER_AGENT_TIMEOUT = "utter_zendesk_agent_timeout"
#: The answers to the user's choice: still waiting, message left (both Rasa renders itself).
UTTER_KEEP_WAITING = "utter_zendesk_keep_waiting"
UTTER_MESSAGE_LEFT = "utter_zendesk_message_left"
#: No agent can answer now: closed (`{next_opening}`: "tomorrow at 9:00"), or nobody online.
#: Both offer to leave a message (`/leave_message`) or to go on with the bot (`/bot`).
UTTER_CLOSED = "utter_zendesk_closed"
UTTER_AGENTS_OFFLINE = "utter_zendesk_agents_offline"
#: Leaving a message: the address is asked, a wrong one said so; then the message is taken
#: (`{email}`), or, after the last wrong address, not; or the user goes on with the bot.
UTTER_ASK_EMAIL = "utter_zendesk_ask_email"
UTTER_EMAIL_INVALID = "utter_zendesk_email_invalid"
UTTER_MESSAGE_TAKEN = "utter_zendesk_message_taken"
UTTER_MESSAGE_NOT_TAKEN = "utter_zendesk_message_not_taken"
UTTER_OFFER_DECLINED = "utter_zendesk_offer_declined"
#: Said when the user's rating of the handoff is recorded.
UTTER_CSAT_THANKS = "utter_zendesk_csat_thanks"
#: Said when the answer to the rating question is not 1 to 5, before it is asked again.
UTTER_CSAT_RATING_INVALID = "utter_zendesk_csat_rating_invalid"

#: The bot's slot holding the user's email address, when it collects one (the ticket's
#: requester at escalation, the address named when the agent moves to email).
SLOT_EMAIL = "email"

# Metadata on the SunCo conversation, set at escalation: how the webhook finds the Rasa user.
CONVERSATION_SENDER_ID = "rasa_sender_id"
CONVERSATION_INPUT_CHANNEL = "rasa_input_channel"
#: The connector the conversation was opened through (absent: the default connector).
CONVERSATION_CONNECTOR = "rasa_zendesk_connector"

#: The ticket tag that links a Zendesk ticket to its SunCo conversation (the conversation id
#: follows). Set at passControl; every ticket webhook repeats the ticket's tags.
TICKET_LINK_TAG_PREFIX = "rasa_zendesk_conversation_"

# Metadata on every SunCo message the plugin posts: such a message is never relayed back.
ORIGIN_KEY = "rasa_zendesk_origin"
ORIGIN_VALUE = "rasa"
ORIGIN_METADATA = {ORIGIN_KEY: ORIGIN_VALUE}
#: Metadata the SunCo client adds to every message it posts and conversation it creates: an id
#: of ours, so a write retried after an unclear failure is looked for before it is sent again.
WRITE_ID_KEY = "rasa_zendesk_id"

# Metadata on the tracker events the channel writes: the durable dedupe keys.
EVENT_ZENDESK_MESSAGE_ID = "zendesk_message_id"
EVENT_ZENDESK_EVENT_ID = "zendesk_event_id"
EVENT_ZENDESK_AGENT_NAME = "zendesk_agent_name"
EVENT_ZENDESK_AGENT_AVATAR = "zendesk_agent_avatar_url"
#: On a message the user's channel could not push: its id until it is handed out; and on
#: the hand-out's copy, the id of the message it hands out (see `handoff.pending`).
EVENT_PENDING = "zendesk_pending"
EVENT_HANDED_OUT = "zendesk_handed_out"
#: When SunCo received the agent's message (epoch seconds): the agent's order, which SunCo
#: does not keep across webhook retries.
EVENT_ZENDESK_RECEIVED = "zendesk_received"
#: An agent's message whose first parts reached the user before a part failed: an
#: `AgentUttered` event names it (`EVENT_ZENDESK_PARTS_OF`, its SunCo id) and how many parts
#: went out; the retried webhook sends the rest only (`platforms.outputs.Parts`).
EVENT_ZENDESK_PARTS_OF = "zendesk_parts_of"
EVENT_ZENDESK_PARTS_SENT = "zendesk_parts_sent"
#: On the notice that ends a handoff: the end reason (the platform clears the agent's keys).
EVENT_HANDOFF_ENDED = "zendesk_handoff_ended"

# Metadata of a release of control by the plugin: why the bot took the conversation back.
END_REASON_KEY = "rasa_zendesk_end_reason"

# Switchboard.
AGENT_WORKSPACE = "zd-agentWorkspace"
AGENT_WORKSPACE_TYPE = "zd:agentWorkspace"
REASON_TICKET_CLOSED = "ticketClosed"
REASON_TRANSFER_TO_EMAIL = "transferToEmail"

# Metadata of a user message, as the user's input channel passes it (the relay reads it; see
# `rasa_zendesk.actions.attachments`): the files it carries, and those the channel could not
# pass on, each with the reason.
USER_ATTACHMENTS_KEY = "attachments"
USER_ATTACHMENTS_REFUSED_KEY = "attachments_refused"
