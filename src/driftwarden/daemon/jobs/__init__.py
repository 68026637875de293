"""Jobs: the queue, the worker, and the work itself (a dropped file, a scheduled window, a registry poll, a retrain)."""
