"""The library's layers, read from its import statements (top-level and inside functions alike):
``io``, ``data`` and ``cli`` at the bottom import nothing above them; only corpus code and prep CLIs import
``recipes``; and no two modules import each other, directly or through others."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIBRARY = REPO / "pyscripts" / "phonsid"
BOTTOM = {"io", "data", "cli"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(LIBRARY.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """The phonsid modules ``path`` imports (``from phonsid.x import y`` counts y when it is a module)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out.update(n for n in names if n in known)
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in LIBRARY.rglob("*.py")}
    known = set(files)
    # A package importing its own submodules (its __init__ re-exporting them) is not a dependency between layers.
    return {name: {m for m in _imports(path, known) if m != name and not m.startswith(name + ".")}
            for name, path in files.items()}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_bottom_layers_import_nothing_above_them():
    wrong = [f"{a} imports {b}" for a, deps in _graph().items() if _package(a) in BOTTOM
             for b in deps if _package(b) not in BOTTOM]
    assert wrong == []


def test_only_corpus_code_imports_recipes():
    graph = _graph()
    wrong = [f"{a} imports {b}" for a, deps in graph.items() if _package(a) != "recipes"
             for b in deps if _package(b) == "recipes"]
    known = set(graph)
    for cli in sorted((REPO / "pyscripts").glob("*.py")):
        wrong += [f"pyscripts/{cli.name} imports {m}" for m in sorted(_imports(cli, known)) if _package(m) == "recipes"]
    assert wrong == []


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_checks_see_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from phonsid.recipes import sre\n    import phonsid.io.wav\n")
    assert _imports(module, {"phonsid.recipes.sre", "phonsid.io.wav", "phonsid.recipes"}) == \
        {"phonsid.recipes", "phonsid.recipes.sre", "phonsid.io.wav"}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
