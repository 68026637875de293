"""How ops see driftwarden: Prometheus metrics, health endpoints, alert rules and sinks."""
