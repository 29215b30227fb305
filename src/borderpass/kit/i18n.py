"""Translatable text. Messages are marked with ``_`` and translated when shown.

The platform speaks Traditional Chinese (default), Simplified Chinese and English.
Catalogs are Babel/gettext catalogs under ``borderpass/web/translations``; a message
without a translation is shown in English, its msgid.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LOCALE", "LOCALES", "_", "normalise_locale", "translate", "translations",
]

LOCALES = ("zh_Hant", "zh_Hans", "en")
DEFAULT_LOCALE = "zh_Hant"
_CATALOGS = Path(__file__).resolve().parent.parent / "web" / "translations"


def _(message: str) -> str:
    """Mark a message for translation; it is translated when shown, not here."""
    return message


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

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def _read_po(path: Path) -> dict[str, str]:
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and isinstance(message.id, str) and isinstance(message.string, str)
        and message.string and not message.fuzzy
    }


@lru_cache(maxsize=8)
def _translations(locale: str) -> gettext.NullTranslations:
    """Return the catalog of ``locale``: the compiled ``.mo`` when it is up to date,
    otherwise the ``.po`` source itself, so that a fresh checkout needs no build step."""
    folder = _CATALOGS / locale / "LC_MESSAGES"
    po, mo = folder / "messages.po", folder / "messages.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        return gettext.translation("messages", localedir=_CATALOGS, languages=[locale])
    if po.exists():
        return _CatalogTranslations(_read_po(po))
    return gettext.NullTranslations()


def translations(locale: str) -> gettext.NullTranslations:
    """Return the gettext translations of a locale (the web pages use them too)."""
    return _translations(normalise_locale(locale))


def translate(message: str, locale: str, /, **params: Any) -> str:
    """Translate a marked message into ``locale`` and fill in its ``{named}`` parameters."""
    text = _translations(normalise_locale(locale)).gettext(message)
    return text.format(**params) if params else text
