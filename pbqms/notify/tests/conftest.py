"""No test of the notify app reaches the network: a call to urlopen fails the test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a notify test tried to open a network connection")

    monkeypatch.setattr("pbqms.notify.channels.urllib.request.urlopen", refuse)
