"""The CLI's modules import one another without a circle.

``cli.main`` builds the command tree and registers the sub-command modules; they take
what they share (``run``, ``emit``, ``fail``, the invocation's state) from ``cli.session``
and never import ``main``. Every import counts, also one inside a function: a circle
through a lazy import is still a circle, only a later one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import warroom.cli

PACKAGE = warroom.cli.__name__
FOLDER = Path(warroom.cli.__file__).parent


def _modules() -> dict[str, Path]:
    found = {PACKAGE: FOLDER / "__init__.py"}
    found.update({f"{PACKAGE}.{path.stem}": path for path in FOLDER.glob("*.py") if path.stem != "__init__"})
    return found


def _imported(module: str, path: Path) -> set[str]:
    """Every module name ``path`` imports, anywhere in it (``from a import b`` names both
    ``a`` and ``a.b``; ``__import__`` and ``import_module`` of a constant count too)."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def import_graph() -> dict[str, set[str]]:
    """``warroom.cli`` module -> the ``warroom.cli`` modules it imports."""
    modules = _modules()
    return {
        name: {other for other in _imported(name, path) if other in modules and other != name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (``[a, b, ..., a]``), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for nxt in sorted(graph[node]):
            cycle = visit(nxt)
            if cycle is not None:
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle is not None:
            return cycle
    return None


def test_the_cli_modules_import_one_another_without_a_circle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_only_the_console_script_imports_the_command_tree() -> None:
    graph = import_graph()
    importers = sorted(name for name, imported in graph.items() if f"{PACKAGE}.main" in imported)
    assert importers == [f"{PACKAGE}.entry"]


def test_the_walk_sees_imports_inside_functions() -> None:
    graph = import_graph()
    assert f"{PACKAGE}.demo_live" in graph[f"{PACKAGE}.demo"]  # imported inside play_live
    assert f"{PACKAGE}.triage" in graph[f"{PACKAGE}.demo_live"]  # inside a method
    assert f"{PACKAGE}.triage" in graph[f"{PACKAGE}.main"]  # registered by main
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
