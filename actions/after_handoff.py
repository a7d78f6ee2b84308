"""What the example bot says right after a handoff ends, by how it ended.

Its `after_handoff_action` (`ZENDESK_AFTER_HANDOFF_ACTION=action_after_handoff`, for both
servers) reads the slot `zendesk_handoff_outcome` that the plugin writes at every end: moved
to email, a short goodbye; no agent came in time, the FAQ; otherwise the feedback question.
"""

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

#: Per end reason, what the bot says; any other reason gets `OTHERWISE`.
BY_REASON = {
    "transfer_to_email": "utter_goodbye_by_email",
    "agent_timeout": "utter_offer_faq",
}
OTHERWISE = "utter_ask_feedback"


class ActionAfterHandoff(Action):
    def name(self) -> str:
        return "action_after_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        outcome = tracker.get_slot("zendesk_handoff_outcome") or {}
        reason = outcome.get("reason") if isinstance(outcome, dict) else None
        dispatcher.utter_message(response=BY_REASON.get(reason or "", OTHERWISE))
        return []
