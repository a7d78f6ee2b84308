"""When agents can answer: business hours, holidays and agents online, before a handoff."""
