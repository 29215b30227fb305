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

__all__ = ["DEFAULT_LOCALE", "LOCALES", "_", "normalise_locale", "translate"]

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


@lru_cache(maxsize=8)
def _translations(locale: str) -> gettext.NullTranslations:
    return gettext.translation(
        "messages", localedir=_CATALOGS, languages=[locale], fallback=True
    )


def translate(message: str, locale: str, /, **params: Any) -> str:
    """Translate a marked message into ``locale`` and fill in its ``{named}`` parameters."""
    text = _translations(normalise_locale(locale)).gettext(message)
    return text.format(**params) if params else text
