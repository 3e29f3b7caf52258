"""The translation catalogues: Chinese complete and sound, English plurals working, .mo up to date.

Simplified Chinese is the default language, so an untranslated or fuzzy entry (fuzzy entries are
ignored at runtime) shows English to every user; these tests catch that before a release.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

PACKAGE = Path(__file__).resolve().parents[2]
LOCALE = PACKAGE / "locale"
# The project catalogue, then one per capability app that keeps its own (pbqms/<app>/locale):
# `pbqms makemessages` run in pbqms/ routes each app's strings to the nearest locale folder.
CATALOGUES = [LOCALE] + sorted(p for p in PACKAGE.glob("*/locale") if p.is_dir())
DOMAINS = [f"{c.parent.name if c != LOCALE else ''}/{p.stem}".lstrip("/")
           for c in CATALOGUES for p in (c / "zh_Hans" / "LC_MESSAGES").glob("*.po")]


def po_path(lang: str, domain: str, ext: str = "po") -> Path:
    """`domain` is 'django' for the project catalogue, '<app>/django' for an app's own."""
    app, _, name = domain.rpartition("/")
    base = PACKAGE / app / "locale" if app else LOCALE
    return base / lang / "LC_MESSAGES" / f"{name}.{ext}"
KEY_STRINGS = {
    "Sign in", "Sign out", "Password", "Home", "Units", "Members", "Accounts", "Audit log", "Roster import",
    "Unit tree", "ID number", "Party committee", "General branch", "Branch", "Party group", "Applicant",
    "Activist", "Development target", "Probationary member", "Full member", "The masses", "Transfer in",
    "Transfer out", "Move", "Dissolve", "Branch secretary", "Committee secretary",
}
# %(name)s / %(n)d style placeholders, and {{ var }} should a template string keep one.
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{\{\s*(\w+)\s*\}\}")
CJK = "\u4e00-\u9fff"


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file as dicts: msgid, msgid_plural, msgstr {index|None: text}, flags."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        e: dict = {"msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set(), "obsolete": False}
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                e["obsolete"] = True
            elif line.startswith("#,"):
                e["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif m := re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line):
                value = ast.literal_eval(m.group(3))
                if m.group(1).startswith("msgstr"):
                    key = ("msgstr", int(m.group(2)) if m.group(2) else None)
                    e["msgstr"][key[1]] = value
                else:
                    key = (m.group(1), None)
                    e[m.group(1)] = value
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if key[0] == "msgstr":
                    e["msgstr"][key[1]] += value
                else:
                    e[key[0]] += value
        if e["msgid"] is not None and not e["obsolete"]:
            entries.append(e)
    return entries


def messages(lang: str, domain: str | None = None) -> list[dict]:
    """One catalogue's entries, or (domain None) every catalogue's together."""
    if domain is None:
        return [e for d in DOMAINS for e in messages(lang, d)]
    return [e for e in parse_po(po_path(lang, domain)) if e["msgid"]]


def names(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def test_both_catalogues_exist():
    assert DOMAINS, "no zh_Hans catalogue"
    for lang in ("zh_Hans", "en"):
        for domain in DOMAINS:
            assert po_path(lang, domain).is_file()
            assert po_path(lang, domain, "mo").is_file()


@pytest.mark.parametrize("domain", DOMAINS)
def test_chinese_is_complete_and_not_fuzzy(domain):
    header = parse_po(po_path("zh_Hans", domain))[0]
    assert "fuzzy" not in header["flags"]
    assert "nplurals=1; plural=0;" in header["msgstr"][None]
    entries = messages("zh_Hans", domain)
    assert entries
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values()) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    for e in entries:
        if e["msgid_plural"] is not None:
            assert set(e["msgstr"]) == {0}, e["msgid"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_english_has_no_fuzzy_entry_and_working_plurals(domain):
    entries = messages("en", domain)
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == []
    for e in entries:
        if e["msgid_plural"] is not None:
            assert e["msgstr"] == {0: e["msgid"], 1: e["msgid_plural"]}
        else:  # empty means "the source text", anything else must still be that text's meaning
            assert e["msgstr"][None] in ("", e["msgid"]), e["msgid"]


def test_key_strings_are_in_the_catalogues():
    for lang in ("zh_Hans", "en"):
        assert KEY_STRINGS <= {e["msgid"] for e in messages(lang)}


@pytest.mark.parametrize("domain", DOMAINS)
def test_placeholders_match(domain):
    for e in messages("zh_Hans", domain):
        wanted = names(e["msgid"]) | names(e["msgid_plural"] or "")
        for text in e["msgstr"].values():
            assert names(text) == wanted, (e["msgid"], text)


@pytest.mark.parametrize("domain", DOMAINS)
def test_chinese_punctuation_is_full_width(domain):
    for e in messages("zh_Hans", domain):
        for text in e["msgstr"].values():
            assert not re.search(rf"[{CJK}][,;:!?]|[,;:!?][{CJK}]", text), (e["msgid"], text)
            if e["msgid"].endswith(".") and not e["msgid"].endswith("..."):
                assert text.endswith("。"), (e["msgid"], text)


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
@pytest.mark.parametrize("domain", DOMAINS)
def test_compiled_catalogue_matches_the_po_file(lang, domain):
    """The .mo holds exactly the .po's translations: nobody forgot `pbqms compilemessages`."""
    with open(po_path(lang, domain, "mo"), "rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    expected = {}
    for e in messages(lang, domain):
        ctx = e["msgctxt"] + "\x04" if e.get("msgctxt") else ""  # gettext keys a context as ctx EOT msgid
        if e["msgid_plural"] is not None:
            for i, text in e["msgstr"].items():
                if text:
                    expected[(ctx + e["msgid"], i)] = text
        elif e["msgstr"][None]:
            expected[ctx + e["msgid"]] = e["msgstr"][None]
    assert {k: v for k, v in catalog.items() if k != ""} == expected


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="GNU gettext is not installed")
@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
@pytest.mark.parametrize("domain", DOMAINS)
def test_msgfmt_check_passes(lang, domain):
    po = po_path(lang, domain)
    result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not shutil.which("xgettext"), reason="GNU gettext is not installed")
def test_every_source_string_is_in_the_catalogues(tmp_path, monkeypatch):
    """Extract the strings again from a copy of the package; each must already be catalogued."""
    copy = tmp_path / "pbqms"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "*.mo", "static", "migrations", "conftest.py"))
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", all=True, keep_pot=True, no_obsolete=True, verbosity=0)
    extracted = {e["msgid"] for pot in copy.glob("**/locale/django.pot") for e in parse_po(pot) if e["msgid"]}
    for lang in ("zh_Hans", "en"):
        missing = extracted - {e["msgid"] for e in messages(lang)}
        assert not missing, f"run `pbqms makemessages` and translate: {sorted(missing)}"


@pytest.mark.django_db
def test_login_page_in_chinese_by_default_and_english_on_request(client, settings):
    from pbqms import settings as project_settings

    assert project_settings.LANGUAGE_CODE == "zh-hans"
    settings.LANGUAGE_CODE = "zh-hans"  # whatever a test suite's own default may be
    url = reverse("accounts:login")
    for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}, {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}):
        zh = client.get(url, **headers).content.decode()
        assert "登录" in zh and "Sign in" not in zh, headers
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign in" in en and "登录" not in en
