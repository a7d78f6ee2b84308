"""What several Rasa instances serving one bot need beyond Rasa's own parts.

- `redis_lock_store.AtomicRedisLockStore`: Rasa's Redis lock store with atomic updates, so two
  instances never hold one conversation at once (endpoints.yml `lock_store.type`).
- `socketio_redis.RedisSocketIOInput`: Rasa's socket.io channel over a Redis manager, so an
  agent's reply that reaches one instance is emitted to a socket held by another.
"""
