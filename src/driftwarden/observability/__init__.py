"""Observability: every Prometheus metric, and the ``/metrics``, ``/healthz``, ``/readyz`` endpoint."""
