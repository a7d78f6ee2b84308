"""The handoff's life: its states, its transitions, and the user's gestures that end it.

One owner for the concept: the channel (Rasa server), the actions (action server) and the
policy all ask `state.current(events)` what the handoff is, and write it only through the
transitions of `state`. See `state` for why the state is read from the events as stored.
"""
