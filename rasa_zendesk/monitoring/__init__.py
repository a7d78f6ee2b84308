"""What the Rasa server tells operators while it runs (Prometheus metrics, handoff transitions
counted from the tracker store), and the reading of handoff records from the store that the
timers, the metrics and `rasa-zendesk report` share. Part of the runtime, below the channel;
the operators' tools (`rasa_zendesk.ops`) use it, never the other way round."""
