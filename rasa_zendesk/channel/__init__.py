"""The Rasa input channel that receives Zendesk (SunCo) webhooks.

Bot authors name `rasa_zendesk.ZendeskInput` in credentials.yml; the modules here are its parts:
`config` (credentials), `input` (the Sanic blueprint), `processor` (each event to its
handler in `handlers`), `write_path` (lock, dedupe, tracker write, delivery, the follow-up action),
`conversations` (SunCo conversation -> Rasa sender id), `tracker_access` (lock, dedupe, save),
`render` and `rich` (SunCo message -> Rasa bot event in Rasa's shapes), `outputs`, `targets`,
`shapes` and `typing_indicator` (the user's own channel, where they wrote from, the platform's
way), `attachment_links` (private attachments as signed links the channel serves).
"""
