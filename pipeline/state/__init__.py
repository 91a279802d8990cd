"""The workspace's durable state: atomic files, the lock, the inbox's readiness, the journal."""
