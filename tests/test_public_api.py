"""Every module's ``__all__`` names what it really defines, and nothing imports a
domain's repository or models from another domain."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import borderpass

SRC = Path(borderpass.__file__).resolve().parent
MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages([str(SRC)], "borderpass.")
    if ".migrations." not in name and not name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    for exported in getattr(module, "__all__", ()):
        assert hasattr(module, exported), f"{name}.__all__ names missing {exported}"


DOMAINS = {"identity", "evidence", "rules", "healthcode", "checkin", "echannel", "permits",
           "crossing"}
CRYPTO = ("cryptography.hazmat", "cwt", "cbor2", "jwcrypto", "joserfc", "pycose")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_boundaries(path: Path) -> None:
    relative = path.relative_to(SRC).parts
    own = relative[0] if len(relative) > 1 else None
    for imported in _imports(path):
        parts = imported.split(".")
        if own in DOMAINS and parts[0] == "borderpass" and len(parts) > 2:
            other, leaf = parts[1], parts[2]
            if other in DOMAINS and other != own:
                assert leaf not in {"repository", "models"}, f"{path} imports {imported}"
            if path.stem not in {"api", "pages"}:  # the HTTP layer that lives in a domain
                assert other not in {"web", "cli"}, f"{path} imports {imported}"
        if own == "kit" and parts[0] == "borderpass":
            assert len(parts) < 2 or parts[1] == "kit", f"kit imports {imported}"
        if imported.startswith(CRYPTO) and relative[:2] != ("kit", "signing"):
            pytest.fail(f"{path} imports {imported}; only kit/signing may")
