"""sd_notify against a real AF_UNIX datagram socket, as systemd listens."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from driftwarden.daemon.service.systemd import Notifier
from tests.support.processes import notify_listener


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    with notify_listener(timeout=2) as pair:
        yield pair


def test_ready_stopping_reloading_reach_the_socket(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.ready("watching 1 directory")
    assert sock.recv(4096).decode() == "READY=1\nSTATUS=watching 1 directory"
    assert notifier.reloading()
    fields = sock.recv(4096).decode().split("\n")
    assert fields[0] == "RELOADING=1" and fields[1].startswith("MONOTONIC_USEC=")
    assert int(fields[1].split("=")[1]) > 0
    assert notifier.stopping()
    assert sock.recv(4096).decode().startswith("STOPPING=1")
    notifier.close()


def test_abstract_socket_address() -> None:
    name = f"dw-notify-abstract-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).notify("STATUS=x")
        assert sock.recv(100) == b"STATUS=x"
    finally:
        sock.close()


def test_watchdog_pings_at_half_the_interval(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"})
    assert notifier.watchdog_interval == 2.0
    assert notifier.watchdog(now=100.0)
    assert sock.recv(100) == b"WATCHDOG=1"
    assert not notifier.watchdog(now=101.0)
    assert notifier.watchdog(now=102.5)


def test_watchdog_for_another_pid_and_no_socket_are_no_ops() -> None:
    assert Notifier({"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}).watchdog_interval is None
    assert not Notifier({}).ready()
