"""Dependencies point one way (DESIGN.md §3.6): config → apps → shop, and among apps in layer order."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# app → apps it may import (services, selectors, models). Later apps talk back only through events/ports.
ALLOWED = {
    "accounts": set(),
    "catalog": {"accounts"},
    "inventory": {"accounts", "catalog"},
    "purchasing": {"accounts", "catalog", "inventory"},
    "rebates": {"accounts", "catalog", "inventory", "purchasing"},
    "orders": {"accounts", "catalog", "inventory"},
    "payments": {"accounts", "catalog", "inventory", "orders"},
    "engagement": {"accounts", "catalog", "inventory", "orders"},
    "exposure": {"accounts", "catalog", "inventory", "orders", "engagement"},
}
# Commands that seed or span the whole store may reach across the layers.
CROSS_CUTTING = {"seed_demo.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _python_files(folder: Path):
    return [p for p in folder.rglob("*.py") if "migrations" not in p.parts]


def test_every_app_is_listed():
    apps = {p.name for p in (ROOT / "apps").iterdir() if (p / "apps.py").exists()}
    assert apps == set(ALLOWED)


def test_shared_kernel_imports_no_app_or_config():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _python_files(ROOT / "shop")
        for name in _imports(path)
        if name.split(".")[0] in {"apps", "config"}
    ]
    assert offenders == []


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_app_imports_only_earlier_layers_and_never_their_api_or_admin(app):
    offenders = []
    for path in _python_files(ROOT / "apps" / app):
        if path.name in CROSS_CUTTING:
            continue
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "apps" or len(parts) < 2 or parts[1] == app:
                continue
            if parts[1] not in ALLOWED[app]:
                offenders.append(f"{path.relative_to(ROOT)} imports {name} (layer violation)")
            elif len(parts) > 2 and parts[2] in {"api", "admin"}:
                offenders.append(f"{path.relative_to(ROOT)} imports {name} (another app's api/admin)")
    assert offenders == []
