"""The outbox: MLflow writes queued durably by checks, and the thread that writes them to MLflow."""
