"""Mobile phone numbers of Hong Kong (+852), Macau (+853) and the mainland (+86)."""

from __future__ import annotations

import re

from borderpass.kit.errors import InvalidFragment
from borderpass.kit.i18n import _

__all__ = ["InvalidPhone", "display_phone", "normalise_phone"]


class InvalidPhone(InvalidFragment):
    code = "invalid_phone"
    message = _("The mobile phone number is not valid.")


_RULES = {
    "852": (re.compile(r"[4-9]\d{7}"), _("a Hong Kong mobile number has 8 digits starting 4-9")),
    "853": (re.compile(r"6\d{7}"), _("a Macau mobile number has 8 digits starting with 6")),
    "86": (re.compile(r"1[3-9]\d{9}"), _("a mainland mobile number has 11 digits starting 13-19")),
}


def normalise_phone(text: str) -> str:
    """Return a mobile number in E.164 form, e.g. ``+85291234567``.

    Raises:
        InvalidPhone: not a +852, +853 or +86 mobile number; the message says why.
    """
    digits = re.sub(r"[\s\-()]", "", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if re.fullmatch(r"[4-9]\d{7}", digits):
        digits = "+852" + digits
    if not digits.startswith("+") or not digits[1:].isdigit():
        raise InvalidPhone(
            _("give the number with its country code: +852, +853 or +86"), field="phone"
        )
    for code in ("852", "853", "86"):
        if digits[1:].startswith(code):
            pattern, reason = _RULES[code]
            if not pattern.fullmatch(digits[1 + len(code) :]):
                raise InvalidPhone(reason, field="phone")
            return digits
    raise InvalidPhone(_("only +852, +853 and +86 numbers are accepted"), field="phone")


def display_phone(e164: str) -> str:
    """Return an E.164 mobile number grouped as people write it: ``+852 9123 4567``,
    ``+853 6123 4567``, ``+86 138 0013 8000``; any other text is returned as it is."""
    for code, groups in (("852", (4, 4)), ("853", (4, 4)), ("86", (3, 4, 4))):
        rest = e164[1 + len(code):]
        if e164.startswith("+" + code) and rest.isdigit() and len(rest) == sum(groups):
            parts, start = [], 0
            for size in groups:
                parts.append(rest[start:start + size])
                start += size
            return " ".join([f"+{code}", *parts])
    return e164
