"""The sqlite state engine: every SQL statement of the ledger and the outbox lives here."""
