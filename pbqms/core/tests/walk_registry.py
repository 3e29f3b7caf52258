"""How each capability teaches the scope walks about its own URLs and API operations.

Every app may ship `pbqms/<app>/tests/walk.py`. The web walk (core/tests/test_scope_walk.py) and
the API walk (orgs/tests/test_api_scope_walk.py) import every such module and use what it defines:

- ``setup(tree, users) -> dict``: create the app's records inside and outside scope (for example
  a notice of B01 and one of B03) and return their keys; the result is passed back as ``extra``.
- ``WEB_PARAMS: set[str]``: the URL parameter names the app's web routes use.
- ``web_values(role, inside, tree, extra) -> dict[str, str]``: a value for each of those
  parameters, inside or outside the role's scope. Values for names shared with other apps (like
  ``pk``) are chosen by URL namespace: return them under ``"<namespace>:pk"``.
- ``API_CASES: dict[str, Case]``: a Case (see below) for each API operation id of the app.
- ``fingerprint() -> tuple``: everything an API write of the app could touch.
- ``outside_state(path) -> tuple``: the app's records under the outside subtree `path`.
- ``OUTSIDE_WORDS: list[str]``: words only outside records carry (e.g. an outside notice's title).
- ``AUDITOR_WRITES: set[str]``: the API operation ids and web URL names (``"<namespace>:<name>"``)
  through which an internal auditor may change anything — only their own things (inbox, tokens).
  The internal auditor reads their subtree and writes nothing else (DOMAIN.md: their findings come
  through audits); both walks assert that every other inside write of theirs changes nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from django.apps import apps


@dataclass
class Ctx:
    """What 'inside' means for one role in the API walk."""

    tree: Any
    unit: str  # the unit the role's assignment sits on
    branch: str  # a unit the role reads where people can belong (B01, or the role's own unit)
    role: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # what each app's setup() returned

    @property
    def m01(self) -> int:
        return self.tree.m01.pk

    @property
    def m03(self) -> int:
        return self.tree.m03.pk


@dataclass
class Call:
    path_params: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None


@dataclass
class Case:
    """How to call one operation inside and outside the caller's scope.

    `inside` and `outside` return calls; path parameters they leave out are filled in
    generically ({code}: the role's unit / B03, {id}: m01 / m03).
    """

    inside: Callable[[Ctx], list[Call]]
    outside: Callable[[Ctx], list[Call]] = lambda c: [Call()]


def walk_modules() -> list[ModuleType]:
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("pbqms."):
            continue
        try:
            found.append(importlib.import_module(f"{config.name}.tests.walk"))
        except ModuleNotFoundError as exc:
            if exc.name not in (f"{config.name}.tests", f"{config.name}.tests.walk"):
                raise
    return found


def setup_all(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for module in walk_modules():
        if hasattr(module, "setup"):
            extra.update(module.setup(tree, users) or {})
    return extra


def web_params() -> set[str]:
    return set().union(*(getattr(m, "WEB_PARAMS", set()) for m in walk_modules()))


def web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for module in walk_modules():
        if hasattr(module, "web_values"):
            values.update(module.web_values(role, inside, tree, extra))
    return values


def api_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for module in walk_modules():
        cases.update(getattr(module, "API_CASES", {}))
    return cases


def fingerprints() -> tuple[Any, ...]:
    return tuple(m.fingerprint() for m in walk_modules() if hasattr(m, "fingerprint"))


def outside_states(path: str) -> tuple[Any, ...]:
    return tuple(m.outside_state(path) for m in walk_modules() if hasattr(m, "outside_state"))


def outside_words() -> list[str]:
    return [w for m in walk_modules() for w in getattr(m, "OUTSIDE_WORDS", [])]


def auditor_writes() -> set[str]:
    return set().union(*(getattr(m, "AUDITOR_WRITES", set()) for m in walk_modules()))
