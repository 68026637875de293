"""The daemon's durable state (ledger, outbox) behind one interface; sqlite is the engine."""
