"""What the example bot says right after a handoff ends, by how it ended.

Its `after_handoff_action` (`ZENDESK_AFTER_HANDOFF_ACTION=action_after_handoff`, for both
servers) reads the slot `zendesk_handoff_outcome` that the plugin writes at every end: solved
by an agent, the CSAT form (`zendesk_csat_form`, then `action_zendesk_csat` writes the rating to
the ticket); moved to email, a short goodbye; no agent came in time, the FAQ; otherwise the
feedback question.
"""

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

#: Per end reason, what the bot says; any other reason gets `OTHERWISE`.
BY_REASON = {
    "transfer_to_email": "utter_goodbye_by_email",
    "agent_timeout": "utter_offer_faq",
}
OTHERWISE = "utter_ask_feedback"
#: The agent solved the ticket: the user is asked to rate the conversation.
RATED = "ticket_solved"
CSAT_FORM, CSAT_RATING = "zendesk_csat_form", "zendesk_csat_rating"


class ActionAfterHandoff(Action):
    def name(self) -> str:
        return "action_after_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        outcome = tracker.get_slot("zendesk_handoff_outcome") or {}
        outcome = outcome if isinstance(outcome, dict) else {}
        reason = outcome.get("reason")
        if reason == RATED and outcome.get("agent_name"):
            # The form's first question, and the form active: the user's next message is
            # the rating (Rasa runs this action itself after an end, not as a prediction).
            dispatcher.utter_message(response=f"utter_ask_{CSAT_RATING}")
            return [ActiveLoop(CSAT_FORM), SlotSet("requested_slot", CSAT_RATING)]
        dispatcher.utter_message(response=BY_REASON.get(reason or "", OTHERWISE))
        return []
