"""Health certificates of other issuers, read and verified offline: the EU Digital COVID
Certificate (``HC1:``, docs/formats/dcc.md) and SMART Health Cards (``shc:/``,
docs/formats/shc.md).

``dcc.verify_dcc`` and ``shc.verify_shc`` take the QR text, the trust material
(``trust.DccTrust``, ``trust.ShcIssuers``) and ``now``; each returns a
:class:`result.Result`: valid, invalid or cannot verify, the outcome of every step, and a
:class:`result.Summary` of what the certificate says. ``detect`` tells the formats apart;
``healthcode.anycode.verify_any`` reads any of them and ours.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["detect"]


def detect(texts: Sequence[str], *, own_prefix: str) -> str:
    """Tell a code's format from its text(s): ``borderpass``, ``dcc``, ``shc`` or ``unknown``.

    Several texts are the chunks of one SMART Health Card.
    """
    first = texts[0] if texts and isinstance(texts[0], str) else ""
    if first.startswith("shc:/"):
        return "shc"
    if len(texts) != 1:
        return "unknown"
    if first.startswith(own_prefix):
        return "borderpass"
    if first.startswith("HC1:"):
        return "dcc"
    return "unknown"
