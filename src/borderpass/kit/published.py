"""Files published for static serving: a web server or a CDN in front serves the folder
``BORDERPASS_PUBLISH_DIR`` (``var/published`` by default) as it is.

Jobs rewrite a file after each change it reflects (a revocation, a case); each file
appears whole (written aside, then renamed), so a reader never sees half of one.
"""

from __future__ import annotations

import os
from pathlib import Path

from borderpass.kit.config import get_settings

__all__ = ["publish_file"]


def publish_file(name: str, content: str) -> Path:
    """Write ``content`` as the published file ``name``; return its path.

    Raises:
        ValueError: ``name`` is not a plain file name.
    """
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"not a plain file name: {name!r}")
    folder = get_settings().publish_dir
    assert folder is not None  # noqa: S101 - the settings fill it in
    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    path = folder / name
    aside = folder / f".{name}.{os.getpid()}.part"
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.replace(aside, path)
    return path
