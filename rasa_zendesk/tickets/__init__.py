"""Zendesk Support tickets: the ticket-status webhook, and how a ticket finds its handoff."""
