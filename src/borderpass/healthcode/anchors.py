"""The anchors an offline verifier has seen: which key signs each jurisdiction's lists.

A signed list names the key that signed it, so a list signed by anyone verifies against
itself; what makes it trustworthy is knowing the jurisdiction's anchor beforehand. The
verifier keeps the anchor key id it accepted for each jurisdiction in a small file
(``var/anchors.json``: ``{"HK": "<kid hex>", ...}``) and after that refuses a list signed
by any other key, as the EU DCC gateway pins its trust anchors. An anchor enters the
file when it is given explicitly (``--anchor``) or trusted on first use.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

__all__ = ["AnchorBook", "AnchorBookUnreadable"]

_KID = re.compile(r"[0-9a-f]{2,64}")


class AnchorBookUnreadable(Exception):
    """The file of seen anchors exists but is not what this module writes."""


class AnchorBook:
    """The anchors seen so far, one per jurisdiction, kept in a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            content = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise AnchorBookUnreadable(f"{self.path}: {error}") from None
        if not isinstance(content, dict) or not all(
                isinstance(name, str) and isinstance(kid, str) and _KID.fullmatch(kid)
                for name, kid in content.items()):
            raise AnchorBookUnreadable(f"{self.path}: not a map of jurisdiction to key id")
        return content

    def seen(self, jurisdiction: str) -> str | None:
        """Return the anchor key id accepted before for ``jurisdiction``, if any."""
        return self._read().get(jurisdiction)

    def remember(self, jurisdiction: str, kid: str) -> None:
        """Accept ``kid`` as ``jurisdiction``'s anchor from now on (replacing another)."""
        anchors = self._read()
        anchors[jurisdiction] = kid
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(anchors, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(partial, self.path)
