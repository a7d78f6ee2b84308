"""What users write to an agent, for checking that none of it ends a handoff.

Complaints, questions, thanks, short answers, and words a bot's NLU may well read as "I want
the bot back" (stop, cancel, quit, close, end, goodbye). Written to a person, each must reach
the agent; a handoff ends only by the user's unambiguous gesture (`rasa_zendesk.handoff`).
"""

ORDINARY_MESSAGES = (
    "I cannot log in since yesterday",
    "no",
    "stop charging me",
    "cancel my order",
    "thanks",
    "thank you so much",
    "that's not what I asked",
    "this is ridiculous",
    "why is it taking so long?",
    "hello?",
    "are you still there",
    "my card was charged twice",
    "I want a refund",
    "stop",
    "quit sending me emails",
    "leave it",
    "never mind the password, the app crashes",
    "goodbye password reset emails, they never arrive",
    "ok",
    "fine",
    "I'm done waiting for the parcel",
    "exit the app and open it again?",
    "close my account",
    "end my subscription",
    "can I talk to your manager",
    "the bot keeps telling me nonsense",
    "the bot was useless",
    "unsubscribe me",
    "I give up on this order",
    "what's your name?",
    "great, that worked",
    "it still does not work",
)
