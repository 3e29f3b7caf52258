"""Preparing new people's names and identities in worker processes, for large imports.

Pinyin and field encryption cost about 0.13 ms a person: 13 s of one core for 100,000 people,
a quarter of the import. Big imports spread that over a small pool of worker processes (spawned
fresh, so they share no database connection with the importer), which run the very same
members.services.set_name / set_identity. The workers get the importer's keys and prove they
encrypt and hash as it does before they are used.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from django.conf import settings

IDENTITY_FIELDS = ("name", "name_pinyin", "name_initials", "id_number_encrypted", "id_number_hash",
                   "id_number_masked", "phone_encrypted", "phone_masked", "birth_date")
Payload = tuple[str, str, str, dt.date | None, str]  # name, ID number, phone, birth date, gender
PROBE = "110101190001011237"


def identities(rows: list[Payload]) -> list[tuple[Any, ...]]:
    """set_name and set_identity on a bare Member for each row; the attributes they set."""
    from pbqms.members.models import Member
    from pbqms.members.services import set_identity, set_name

    out = []
    for name, number, phone, birth, gender in rows:
        m = Member(birth_date=birth, gender=gender)
        set_name(m, name)
        set_identity(m, number, phone)
        out.append(tuple(getattr(m, f) for f in IDENTITY_FIELDS))
    return out


def _start_worker(secret_key: str, field_key: str, probe_hash: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbqms.settings")
    import django

    django.setup()
    settings.SECRET_KEY = secret_key
    settings.FIELD_ENCRYPTION_KEY = field_key
    from pbqms.core import crypto

    if crypto.lookup_hash(PROBE) != probe_hash:  # never store what the importer could not read back
        raise RuntimeError("worker keys differ from the importer's")


def workers() -> int:
    """Worker processes for a big import: all cores but the importer's, at most 4 (setting
    PBQMS_IMPORT_WORKERS; 0 prepares everything in the importing process)."""
    return int(getattr(settings, "PBQMS_IMPORT_WORKERS", max(1, min(4, (os.cpu_count() or 2) - 1))))


class Pool:
    """Worker processes fed with chunks of rows; results come back in order."""

    def __init__(self, n: int):
        from pbqms.core import crypto

        self.executor = ProcessPoolExecutor(
            max_workers=n, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
            initargs=(settings.SECRET_KEY, settings.FIELD_ENCRYPTION_KEY, crypto.lookup_hash(PROBE)))

    def map(self, chunks: list[list[Payload]]) -> Iterator[list[tuple[Any, ...]]]:
        return self.executor.map(identities, chunks)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
