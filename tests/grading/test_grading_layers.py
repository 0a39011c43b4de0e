"""The grading package is layered: every import (module level or inside a function) points downwards.

The imports are read with ``ast`` from the source, so an import hidden inside a function counts as much as
one at the top of a module. Imports of the parent package that Python performs implicitly are not edges;
only what a module writes is.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "tts.grading"
PACKAGE_DIR = ROOT / "tts" / "grading"

#: The layers, bottom up: a module may import only modules listed before it.
ORDER = [
    "tts.grading.text",
    "tts.grading.complexity",
    "tts.grading.units",
    "tts.grading.words",
    "tts.grading.numeric",
    "tts.grading.bearings",
    "tts.grading.qualifiers",
    "tts.grading.choice",
    "tts.grading.prose",
    "tts.grading.commitments",
    "tts.grading.statements",
    "tts.grading.symbolic_ops",
    "tts.grading.sandbox",
    "tts.grading.runners",
    "tts.grading.symbolic",
    "tts.grading.extract",
    "tts.grading.rules",
    "tts.grading.equivalence",
    "tts.grading.official.mathvision",
    "tts.grading.official.mathvista",
    "tts.grading.official.mmmu",
    "tts.grading.official.others",
    "tts.grading.official",
    "tts.grading.grader",
    "tts.grading.pool",
    "tts.grading.cluster",
    "tts.grading.sources",
    "tts.grading.files",
    "tts.grading",
    "tts.grading.worker",
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def imports_of(name: str, modules: dict[str, Path]) -> set[str]:
    """The modules of the grading package that ``name`` imports anywhere in its source."""
    tree = ast.parse(modules[name].read_text(), filename=str(modules[name]))
    package = name if _is_package(name, modules) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                if candidate in modules:
                    found.add(candidate)
                elif source in modules:
                    found.add(source)
    found.discard(name)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as a path that returns to its start), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: imports_of(name, modules) for name in modules}


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_function_level_imports_are_edges(tmp_path: Path) -> None:
    source = "def f():\n    from tts.grading import symbolic\n    import tts.grading.text\n"
    path = tmp_path / "m.py"
    path.write_text(source)
    modules = {"tts.grading.m": path, "tts.grading.symbolic": path, "tts.grading.text": path}
    assert imports_of("tts.grading.m", modules) == {"tts.grading.symbolic", "tts.grading.text"}


def test_no_import_cycle_in_the_grading_package() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_import_points_down_the_layers() -> None:
    graph = _graph()
    assert set(graph) <= set(ORDER), f"place new modules in ORDER: {sorted(set(graph) - set(ORDER))}"
    rank = {name: i for i, name in enumerate(ORDER)}
    upward = [f"{a} imports {b}" for a, targets in graph.items() for b in targets if rank[b] >= rank[a]]
    assert upward == []


def test_nothing_imports_the_worker_entry_point() -> None:
    graph = _graph()
    assert [name for name, targets in graph.items() if "tts.grading.worker" in targets] == []
