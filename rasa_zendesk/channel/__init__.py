"""The Rasa input channel that receives Zendesk (SunCo) webhooks.

Bot authors name `rasa_zendesk.ZendeskInput` in credentials.yml; the modules here are its parts:
`config` (credentials), `input` (the Sanic blueprint), `processor` (each event to its
handler in `handlers`), `write_path` (lock, dedupe, tracker write, delivery, the follow-up action),
`conversations` (SunCo conversation -> Rasa sender id), `tracker_access` and `tracker_cache`
(lock, dedupe, save; trackers kept between webhooks), `render` (SunCo message -> Rasa bot event
in Rasa's shapes), `timers`, `attachment_links` (private attachments as signed links the
channel serves), `media_inputs` (Rasa's Twilio and Telegram channels with users' files). The
user's platform is `rasa_zendesk.platforms`'.
"""
