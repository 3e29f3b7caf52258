"""No test of the notify app reaches the network: a connection or a DNS look-up fails the test,
and the robot platforms' hosts resolve to a fixed public address (PUBLIC_IP)."""

from __future__ import annotations

import pytest

PUBLIC_IP = "101.91.22.57"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a notify test tried to open a network connection")

    monkeypatch.setattr("pbqms.notify.channels._Pinned.__call__", refuse)
    monkeypatch.setattr("pbqms.notify.channels.resolve", lambda host, port: [PUBLIC_IP])
