"""The handoff's timers, run inside the Rasa server on the stores it already has.

- `watchlist`: which conversations have a running handoff: for a SQL tracker store, the rows
  that write the handoff's record, read incrementally from the events table by every instance
  (so a restart, or another instance, finds them); for Redis, MongoDB and DynamoDB stores, their
  index of open handoffs (`rasa_zendesk.channel.open_index`); for other stores (in memory),
  what this process noticed plus a periodic scan of the store.
- `loop`: every second, the handoffs whose next deadline (`rasa_zendesk.handoff.deadlines`)
  has passed are handed to the channel's write path, which re-reads the conversation under the
  lock store's lock and fires the timer only if it is still due: with several instances, the
  first to get the lock fires it and the others find it done.
"""
