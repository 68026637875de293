"""The outbox: MLflow writes queued durably by checks (``queue``), the thread that applies
them in order (``flusher``) and the MLflow calls that apply them (``writer``). The rows live in
the state engine's outbox store.
"""
