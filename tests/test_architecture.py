"""The import structure the README's layout promises, checked on the source itself.

* ``ledger`` never imports ``oracle`` (the oracle node builds on the library, not the reverse);
* ``ledger.protocol`` (pure protocol and clearing code) imports nothing else of the project;
* no import circles between the project's modules;
* shipped code (``ledger``, ``oracle``) never imports ``tests`` (test support lives in ``tests/support``);
* ``tests/`` mirrors the source tree (``tests/ledger/chain/`` tests ``ledger/chain/``).

Every import counts, including those inside functions (a lazy import is still a dependency); only
imports under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ledger", "oracle")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for package in PACKAGES
        for p in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in p.parts  # Alembic scripts are loaded by Alembic, not imported
    }


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Absolute names imported by ``tree`` (``from a import b`` yields ``a.b`` and ``a``)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = {t for t in _imports(tree, name, path.name == "__init__.py") if t in modules}
        graph[name] = targets - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative-free: small graph)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


GRAPH = import_graph()


def _edges(source: str, target: str) -> list[str]:
    def inside(name: str, package: str) -> bool:
        return name == package or name.startswith(package + ".")

    return sorted(
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        if inside(m, source)
        for t in targets
        if inside(t, target)
    )


def test_the_graph_sees_the_project() -> None:
    # A parser that found nothing would pass every check below.
    assert "ledger.protocol.clearing" in GRAPH["oracle.node.runner"]
    assert "ledger.chain.views" in GRAPH["ledger.chain.hub"]
    assert sum(len(t) for t in GRAPH.values()) > 200


def test_ledger_never_imports_oracle() -> None:
    assert _edges("ledger", "oracle") == []


LEDGER_PACKAGES = sorted({m.split(".")[1] for m in GRAPH if m.startswith("ledger.")} - {"protocol"})


@pytest.mark.parametrize("other", LEDGER_PACKAGES)
def test_protocol_imports_nothing_else_of_the_project(other: str) -> None:
    assert _edges("ledger.protocol", f"ledger.{other}") == []
    assert _edges("ledger.protocol", "oracle") == []


def test_no_import_circles() -> None:
    assert _cycles(GRAPH) == []


def _test_imports() -> list[str]:
    """``module -> name`` for every import of ``tests`` (or anything under it) by shipped code."""
    found = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found += [
            f"{name} -> {t}"
            for t in _imports(tree, name, path.name == "__init__.py")
            if t == "tests" or t.startswith("tests.")
        ]
    return sorted(set(found))


def test_shipped_code_never_imports_tests() -> None:
    assert _test_imports() == []
    moved = ("ledger/testing.py", "ledger/index/testing.py", "ledger/index/simulate.py")
    for gone in (*moved, "ledger/index/scenario.py", "oracle/node/testing.py"):
        assert not (ROOT / gone).exists(), f"test support belongs in tests/support, not {gone}"


def test_a_test_import_is_detected() -> None:
    tree = ast.parse("def f():\n    from tests.support.devnet import Devnet\n")
    assert "tests.support.devnet" in set(_imports(tree, "ledger.x", False))


def test_a_circle_is_detected() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: folders of tests that hold fixtures for the tests beside them, not tests of a package
_FIXTURE_DIRS = {"js", "vectors", "__pycache__"}


def test_tests_mirror_the_source_tree() -> None:
    """``tests/ledger/chain/`` tests ``ledger/chain/``: every test folder names a source package."""
    strays = [
        str(folder.relative_to(ROOT))
        for package in PACKAGES
        for folder in sorted((ROOT / "tests" / package).rglob("*"))
        if folder.is_dir()
        and not _FIXTURE_DIRS & set(folder.parts)
        and not (ROOT / folder.relative_to(ROOT / "tests")).is_dir()
    ]
    assert strays == []
    tested = {p.parent.relative_to(ROOT / "tests") for p in (ROOT / "tests").rglob("test_*.py")}
    assert Path("ledger/protocol/netting") in tested and Path("oracle/node") in tested


def test_readme_python_imports_resolve() -> None:
    """The public API the README shows (``from ledger.submit import ...``) exists under those names."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    imports = [
        node
        for block in blocks
        for node in ast.walk(ast.parse(block))
        if isinstance(node, ast.ImportFrom) and node.module
    ]
    assert imports, "the README shows no Python API"
    for node in imports:
        module = importlib.import_module(str(node.module))
        missing = [a.name for a in node.names if not hasattr(module, a.name)]
        assert not missing, f"README: from {node.module} import {', '.join(missing)}"
