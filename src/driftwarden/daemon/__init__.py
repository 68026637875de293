"""The daemon: watchers, scheduler, ledger, job loop and the lifecycle that wires the rooms together.

Nothing here starts a thread on import; ``service.Daemon`` owns every thread and the order
in which they start and stop.
"""
