"""Everything that touches MLflow: client setup, registry, runs, outbox payloads, commands.

This is the only room that imports mlflow at module level; import its modules lazily from
short commands, since ``import mlflow`` costs seconds.
"""
