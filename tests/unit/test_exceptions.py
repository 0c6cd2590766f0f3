"""The exception tree: drawn in ``ledgerlearn.exceptions``, defined there and nowhere else."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import ledgerlearn
from ledgerlearn import exceptions
from ledgerlearn.exceptions import LedgerLearnError
from ledgerlearn.exit_codes import REMEDIES, ExitCode

_STANDARD = {"ValueError", "LookupError", "FileExistsError"}


def _drawn() -> dict[str, tuple[str | None, set[str]]]:
    """Class → (parent, standard bases) as the docstring's tree draws it."""
    doc = exceptions.__doc__ or ""
    lines = [
        line for line in doc.splitlines() if re.search(r"(├──|└──|^\s+LedgerLearnError$)", line)
    ]
    tree: dict[str, tuple[str | None, set[str]]] = {}
    stack: list[tuple[int, str]] = []
    for line in lines:
        match = re.search(r"(?:[├└]── )?([A-Z]\w+)(?: \(([\w, ]+)\))?", line)
        assert match, line
        name, extra = match.group(1), match.group(2)
        depth = line.find(name)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        tree[name] = (
            stack[-1][1] if stack else None,
            set((extra or "").replace(" ", "").split(",")) - {""},
        )
        stack.append((depth, name))
    return tree


def _classes() -> dict[str, type[LedgerLearnError]]:
    return {
        name: cls
        for name, cls in vars(exceptions).items()
        if inspect.isclass(cls) and issubclass(cls, LedgerLearnError)
    }


def test_the_drawn_tree_is_the_class_tree() -> None:
    drawn = _drawn()
    classes = _classes()
    assert set(drawn) == set(classes)
    for name, cls in classes.items():
        ours = [b for b in cls.__bases__ if issubclass(b, LedgerLearnError)]
        standard = {b.__name__ for b in cls.__bases__ if b.__name__ in _STANDARD}
        parent, extra = drawn[name]
        assert (ours[0].__name__ if ours else None) == parent, name
        assert standard == extra, name


def test_every_exception_lives_in_the_exceptions_module() -> None:
    elsewhere = []
    for info in pkgutil.walk_packages(ledgerlearn.__path__, "ledgerlearn."):
        if info.name in (
            "ledgerlearn.exceptions",
            "ledgerlearn.ledger.errors",
        ) or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, LedgerLearnError)
                and value.__module__ == info.name
            ):
                elsewhere.append(f"{info.name}.{name}")
    assert elsewhere == []


def test_every_exception_is_exported_and_has_a_remedy() -> None:
    classes = _classes()
    assert set(exceptions.__all__) == set(classes)
    assert set(REMEDIES) == set(ExitCode)
    for cls in classes.values():
        assert cls.exit_code in REMEDIES
