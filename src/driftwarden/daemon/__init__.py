"""The daemon: it wires the rooms together and owns every thread.

``intake`` (which files are data, when they are complete, quarantine, admission against the
reference) → ``jobs`` (the queue, the worker, the file/scheduled/registry jobs, the commit
that stores a check's outcome, retraining) → ``service`` (building the parts, their
lifecycle, the main loop, reloads, signals, systemd). Nothing starts a thread on import;
``service.daemon.Daemon`` starts the parts in order and stops them in reverse.
"""
