"""Remediation: retrain through an MLflow project, register the candidate, gate it, promote or roll back.

Entry points: ``run_cycle`` (cycle.py) for the daemon and the ``retrain`` command,
``rollback`` (rollback.py), ``should_trigger`` (policy.py). Nothing here imports mlflow at
module level; MLflow is reached through ``driftwarden.tracking``.
"""

from __future__ import annotations
