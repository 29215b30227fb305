"""The Traditional and Simplified Chinese catalogs translate every marked string of the
sources and templates, keep every placeholder, and hold nothing fuzzy or empty."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import borderpass

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(borderpass.__file__).resolve().parent
CATALOGS = SRC / "web" / "translations"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")


def marked_messages() -> set[str]:
    """Extract every marked string now, as ``make translations`` does."""
    method_map = [("**.py", "python"), ("web/templates/**.html", "jinja2")]
    options = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    return {
        message if isinstance(message, str) else str(message[0])  # a plural by its singular
        for _file, _line, message, _comments, _context in extract_from_dir(
            SRC, method_map, options,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_n": (1, 2)})
    }


@pytest.fixture(scope="module")
def marked() -> set[str]:
    return marked_messages()


@pytest.mark.parametrize("locale", ["zh_Hant", "zh_Hans"])
def test_catalog_is_complete(locale: str, marked: set[str]) -> None:
    with (CATALOGS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, f"{locale}: fuzzy: {message.id!r}"
        if isinstance(message.id, tuple | list):
            # A message with a plural form: each of the language's forms is filled in and
            # keeps the placeholders of the plural (Chinese has one form for every number).
            forms = list(message.string)
            assert forms and all(forms), f"{locale}: untranslated: {message.id!r}"
            for form in forms:
                assert set(PLACEHOLDER.findall(form)) == set(
                    PLACEHOLDER.findall(message.id[1])), f"{locale}: placeholders of {message.id!r}"
            translated[str(message.id[0])] = forms[0]
            continue
        assert message.string, f"{locale}: untranslated: {message.id!r}"
        assert sorted(PLACEHOLDER.findall(str(message.string))) == sorted(
            PLACEHOLDER.findall(str(message.id))), f"{locale}: placeholders of {message.id!r}"
        translated[str(message.id)] = str(message.string)
    missing = sorted(marked - translated.keys())
    assert not missing, f"{locale}: not in the catalog (run `make translations`): {missing}"


def test_simplified_catalog_is_not_traditional() -> None:
    from borderpass.kit.i18n import translate

    assert translate("Health Code", "zh_Hant") == "港康碼"
    assert translate("Health Code", "zh_Hans") == "港康码"
    assert translate("Sign in", "en") == "Sign in"


def test_error_parameters_are_translated_too() -> None:
    from borderpass.identity.documents import InvalidDocumentNumber, normalise

    with pytest.raises(InvalidDocumentNumber) as caught:
        normalise("hkid", "A12X4563")
    assert caught.value.render("zh_Hant") == "第 4 個字元不正確：應為數字"
    assert caught.value.render("en") == "Bad character at position 4: a digit"
    assert caught.value.fragment("en") == "bad character at position 4: a digit"


@pytest.mark.parametrize("locale", ["zh_Hant", "zh_Hans"])
def test_plural_messages_are_read_from_the_po_source_too(locale: str) -> None:
    """A fresh checkout reads the ``.po`` files when no ``.mo`` is built: plurals too."""
    from borderpass.kit.i18n import _read_po

    catalog = _read_po(CATALOGS / locale / "LC_MESSAGES" / "messages.po")
    one = catalog.ngettext("The PIN is not correct; {left} attempt left.",
                           "The PIN is not correct; {left} attempts left.", 1)
    many = catalog.ngettext("The PIN is not correct; {left} attempt left.",
                            "The PIN is not correct; {left} attempts left.", 4)
    assert one == many and "{left}" in one and "PIN" not in one  # one form, translated
    assert catalog.ngettext("no such message", "no such messages", 2) == "no such messages"
