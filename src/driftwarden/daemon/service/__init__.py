"""The service: the daemon's parts built and started in order, its main loop, reloads, signals, systemd."""
