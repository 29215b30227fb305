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


# The layers, bottom to top. A module imports its own package or a lower layer: never a
# sibling on its layer, never anything above (docs/architecture.md draws them).
LAYERS: dict[str, int] = {
    "kit": 0,
    "identity": 1, "worldcodes": 1,
    "evidence": 2, "echannel": 2, "permits": 2,
    "rules": 3, "checkin": 3,
    "healthcode": 4,
    "crossing": 5,
    "wiring": 6,
    "web": 7,
    "cli": 8, "__main__": 8, "demo": 8, "models": 8, "migrations": 8,
}
ENTRY_POINTS = 8
DOMAINS = {"identity", "evidence", "rules", "healthcode", "checkin", "echannel", "permits",
           "crossing", "worldcodes"}
CRYPTO = ("cryptography.hazmat", "cwt", "cbor2", "jwcrypto", "joserfc", "pycose")
SOURCES = sorted(SRC.rglob("*.py"))


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


def _unit(relative: tuple[str, ...]) -> str:
    """Name the package (or top-level module) a path under src/borderpass belongs to."""
    return relative[0] if len(relative) > 1 else relative[0].removesuffix(".py")


def test_every_module_has_a_layer() -> None:
    units = {_unit(path.relative_to(SRC).parts) for path in SOURCES} - {"__init__"}
    assert units <= set(LAYERS), f"modules without a layer: {sorted(units - set(LAYERS))}"


def _upward(path: Path, relative: tuple[str, ...] | None = None) -> list[str]:
    """Return the imports of ``path`` that point to its own layer's siblings or above."""
    own = _unit(relative or path.relative_to(SRC).parts)
    rank = LAYERS.get(own, ENTRY_POINTS)
    wrong = []
    for imported in _imports(path):
        parts = imported.split(".")
        if parts[0] != "borderpass" or len(parts) < 2 or parts[1] not in LAYERS:
            continue
        other = parts[1]
        if other == own or rank == ENTRY_POINTS:
            continue
        if LAYERS[other] >= rank:
            wrong.append(imported)
    return wrong


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_import_points_up(path: Path) -> None:
    assert _upward(path) == [], f"{path.relative_to(SRC)} imports upward: {_upward(path)}"


def test_the_layer_check_sees_upward_imports(tmp_path: Path) -> None:
    # The check must fail on each kind of arrow it exists to forbid, however it is written.
    cases = [
        ("identity/api.py", "from borderpass.web.app import create_app\n"),
        ("evidence/pages.py", "def f():\n    from borderpass.permits import service\n"),
        ("kit/x.py", "import borderpass.identity.service\n"),
        ("healthcode/x.py", "from borderpass import wiring\n"),
        ("rules/x.py", "from borderpass.checkin.service import upload\n"),
    ]
    for relative, source in cases:
        fake = tmp_path / "module.py"
        fake.write_text(source, encoding="utf-8")
        assert _upward(fake, tuple(relative.split("/"))), relative
    fake.write_text("from borderpass.kit.db import Base\n", encoding="utf-8")
    assert _upward(fake, ("identity", "models.py")) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_boundaries(path: Path) -> None:
    relative = path.relative_to(SRC).parts
    own = relative[0] if len(relative) > 1 else None
    for imported in _imports(path):
        parts = imported.split(".")
        if own in DOMAINS and parts[0] == "borderpass" and len(parts) > 2:
            other, leaf = parts[1], parts[2]
            if other in DOMAINS and other != own:
                assert leaf not in {"repository", "models"}, f"{path} imports {imported}"
        if imported.startswith(CRYPTO) and relative[:2] != ("kit", "signing"):
            pytest.fail(f"{path} imports {imported}; only kit/signing may")
