"""One handler per kind of event the Rasa server applies, each deciding what the event puts
in front of the user and records; `rasa_zendesk.channel.write_path` writes it.

- `agent_message`: an agent's message reaches the user (the first one says who joined);
- `agent_typing`: the agent's typing, where the user's channel can show it;
- `switchboard`: Zendesk gives the conversation back (the end reason SunCo gives);
- `ticket_status`: the ticket's new status; solved or closed ends the handoff;
- `timer`: a handoff's due timer (no agent yet, idle, too long);
- `ending` (shared): the end of a handoff as the table of endings says (`handoff.endings`);
- `notice` (shared): what the plugin tells the user, rendered in the Rasa server.

A webhook never becomes a user message in Rasa.
"""
