"""Translatable text. Messages are marked with ``_`` and translated when shown.

The platform speaks Traditional Chinese (default), Simplified Chinese and English.
Catalogs are Babel/gettext catalogs under ``borderpass/web/translations``; a message
without a translation is shown in English, its msgid.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "DEFAULT_LOCALE", "LOCALES", "InLocales", "Plural", "_", "_n", "normalise_locale", "translate",
    "translate_plural", "translations",
]

LOCALES = ("zh_Hant", "zh_Hans", "en")
DEFAULT_LOCALE = "zh_Hant"
_CATALOGS = Path(__file__).resolve().parent.parent / "web" / "translations"


def _(message: str) -> str:
    """Mark a message for translation; it is translated when shown, not here."""
    return message


class InLocales:
    """A text already written in each language (names from data, not from the catalogs),
    given as a parameter of a message and shown in the message's language."""

    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = dict(texts)

    def get(self, locale: str) -> str:
        """Return the text in ``locale``, English when it has none."""
        found = self._texts.get(normalise_locale(locale))
        return found if found is not None else self._texts.get("en", "")

    def __str__(self) -> str:
        return self.get("en")


class Plural(NamedTuple):
    """A message with a plural form: the catalog picks the form by a number."""

    singular: str
    plural: str


def _n(singular: str, plural: str) -> Plural:
    """Mark a message with a plural form; it is translated when shown, by its number."""
    return Plural(singular, plural)


def normalise_locale(value: str | None) -> str:
    """Map a language tag such as ``zh-HK`` or ``en-GB`` to one of ``LOCALES``."""
    if not value:
        return DEFAULT_LOCALE
    tag = value.replace("-", "_").strip()
    lowered = tag.lower()
    if lowered.startswith("en"):
        return "en"
    if lowered in {"zh_hans", "zh_cn", "zh_sg"} or lowered.startswith("zh_hans"):
        return "zh_Hans"
    if lowered.startswith("zh"):
        return "zh_Hant"
    return DEFAULT_LOCALE


class _CatalogTranslations(gettext.NullTranslations):
    """Translations read straight from a ``.po`` catalog (no compiled ``.mo`` needed)."""

    def __init__(self, messages: dict[str, str], plurals: dict[str, tuple[str, ...]],
                 plural_form: Callable[[int], int]) -> None:
        super().__init__()
        self._messages = messages
        self._plurals = plurals
        self._plural_form = plural_form

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = self._plurals.get(singular)
        if forms:
            index = self._plural_form(n)
            if 0 <= index < len(forms) and forms[index]:
                return forms[index]
        return singular if n == 1 else plural


def _read_po(path: Path) -> _CatalogTranslations:
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle)
    messages, plurals = {}, {}
    for message in catalog:
        if not message.id or message.fuzzy or not message.string:
            continue
        if isinstance(message.id, str) and isinstance(message.string, str):
            messages[message.id] = message.string
        elif isinstance(message.id, tuple | list) and isinstance(message.string, tuple | list):
            plurals[str(message.id[0])] = tuple(str(form) for form in message.string)
    return _CatalogTranslations(messages, plurals, gettext.c2py(catalog.plural_expr))


@lru_cache(maxsize=8)
def _translations(locale: str) -> gettext.NullTranslations:
    """Return the catalog of ``locale``: the compiled ``.mo`` when it is up to date,
    otherwise the ``.po`` source itself, so that a fresh checkout needs no build step."""
    folder = _CATALOGS / locale / "LC_MESSAGES"
    po, mo = folder / "messages.po", folder / "messages.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        return gettext.translation("messages", localedir=_CATALOGS, languages=[locale])
    if po.exists():
        return _read_po(po)
    return gettext.NullTranslations()


def translations(locale: str) -> gettext.NullTranslations:
    """Return the gettext translations of a locale (the web pages use them too)."""
    return _translations(normalise_locale(locale))


def translate(message: str, locale: str, /, **params: Any) -> str:
    """Translate a marked message into ``locale`` and fill in its ``{named}`` parameters."""
    text = _translations(normalise_locale(locale)).gettext(message)
    return text.format(**params) if params else text


def translate_plural(message: Plural, n: int, locale: str, /, **params: Any) -> str:
    """Translate a message with a plural form into ``locale``, choosing the form for ``n``,
    and fill in its ``{named}`` parameters."""
    text = _translations(normalise_locale(locale)).ngettext(message.singular, message.plural, n)
    return text.format(**params) if params else text
