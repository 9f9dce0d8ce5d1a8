"""Local storage: the append-only event log, the outbox and cached reference data."""
