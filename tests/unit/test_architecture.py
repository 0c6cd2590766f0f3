"""The layer rules of docs/architecture.md, checked by parsing every import in src/."""

from __future__ import annotations

import ast
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "ledgerlearn"
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ledgerlearn"]["layers"]
ROWS: list[list[str]] = CONFIG["rows"]
BASE: set[str] = set(CONFIG["base"])
ONLY: dict[str, list[str]] = CONFIG["only"]
ROW_OF = {name: index for index, row in enumerate(ROWS) for name in row}


def _unit(module: str) -> str:
    """The layer unit of ``ledgerlearn.x.y``: its package, or ``_base`` for base modules."""
    parts = module.split(".")
    first = parts[1] if len(parts) > 1 else "__init__"
    exists = (PACKAGE / first).is_dir() or (PACKAGE / f"{first}.py").exists()
    return "_base" if first in BASE or not exists else first


def _imports() -> list[tuple[str, str, int]]:
    """(importing module, imported ledgerlearn module, line) for every import in src/."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = list(parts[:-1])
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                names = [f"{target}.{a.name}" for a in node.names]
                # `from ledgerlearn.x import _y` imports a private module too.
                targets = [target, *[n for n in names if n.rsplit(".", 1)[1].startswith("_")]]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target == "ledgerlearn" or target.startswith("ledgerlearn."):
                    found.append((module, target, node.lineno))
    return found


IMPORTS = _imports()


def test_every_package_has_a_row() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert packages - set(ROW_OF) == set(), "add new packages to [tool.ledgerlearn.layers]"
    assert modules - BASE == set(), "a top-level module is a base module: list it in base"


def test_no_package_imports_a_lower_row() -> None:
    upward = [
        f"{src}:{line} imports {dst} ({_unit(src)} is row {ROW_OF[_unit(src)]}, "
        f"{_unit(dst)} row {ROW_OF[_unit(dst)]})"
        for src, dst, line in IMPORTS
        if ROW_OF[_unit(dst)] > ROW_OF[_unit(src)]
    ]
    assert upward == []


def test_restricted_packages_import_only_what_they_may() -> None:
    wrong = [
        f"{src}:{line} imports {dst}"
        for src, dst, line in IMPORTS
        if _unit(src) in ONLY and _unit(dst) not in {_unit(src), *ONLY[_unit(src)]}
    ]
    assert wrong == []


def test_packages_form_no_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst, _ in IMPORTS:
        if _unit(src) != _unit(dst):
            graph[_unit(src)].add(_unit(dst))
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, node])):
                return cycle
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            assert visit(node, []) is None


def test_no_package_imports_another_packages_private_modules() -> None:
    private = []
    for src, dst, line in IMPORTS:
        parts = dst.split(".")
        owner = ".".join(parts[:2])
        if _unit(dst) == "_base" or src == owner or src.startswith(owner + "."):
            continue
        if any(p.startswith("_") for p in parts[2:]):
            private.append(f"{src}:{line} imports {dst}")
    assert private == []


@pytest.mark.parametrize("name", [name for row in ROWS for name in row if name != "_base"])
def test_the_architecture_doc_lists_every_package(name: str) -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert f"`{name}`" in doc
