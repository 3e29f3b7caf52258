"""The address a request came from (audit trail, login log, per-address sign-in throttle)."""

from __future__ import annotations

from django.test import RequestFactory

from pbqms.audit.context import client_ip


def _request(remote: str = "10.0.0.5", forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_forwarded_header_ignored_unless_trusted(settings):
    settings.PBQMS_TRUST_X_FORWARDED_FOR = False
    assert client_ip(_request(forwarded="203.0.113.9")) == "10.0.0.5"


def test_only_the_proxys_own_entry_is_trusted(settings):
    # a client may put anything before the entry our proxy appends: a new random address per try
    # must not give it a new throttle bucket
    settings.PBQMS_TRUST_X_FORWARDED_FOR = True
    assert client_ip(_request(forwarded="198.51.100.77, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request(forwarded="1.2.3.4, 203.0.113.9")) == "203.0.113.9"


def test_what_is_not_an_address_is_never_used(settings):
    settings.PBQMS_TRUST_X_FORWARDED_FOR = True
    assert client_ip(_request(forwarded="not-an-ip")) == "10.0.0.5"
    assert client_ip(_request(remote="garbage", forwarded="")) is None
