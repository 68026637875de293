"""Everything that touches MLflow: client setup, registry, runs, the logging of checks, commands.

This is the only room that imports mlflow at module level; import its modules lazily from
short commands, since ``import mlflow`` costs seconds.
"""
