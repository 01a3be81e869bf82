"""The shape of the house (docs/architecture.md): imports point down the floors, never in a loop, and a private
name never crosses a package boundary. Every module under src/yidi is parsed with `ast`; imports inside
functions (lazy imports) count like the ones at the top, since a lazy import that points back is still a loop."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import yidi

ROOT = Path(yidi.__file__).parent

# The floor of each top-level package (or top-level module): imports point down, or sideways within a floor.
GROUND, FACTS, RIGHTS, CASES, REMEDIES, MONEY, EDGES = 0, 1, 2, 3, 4, 5, 6
FLOORS = {
    "core": GROUND,
    "security": GROUND,
    "reference": FACTS,
    "people": FACTS,
    "catalog": FACTS,
    "parameters": FACTS,
    "filing": RIGHTS,
    "settlement": CASES,
    "reimbursement": REMEDIES,
    "gateway": EDGES,
    "cli": EDGES,
    "cli_support": EDGES,
    "scenario": EDGES,
    "demo": EDGES,
    "app": EDGES,
    "bootstrap": EDGES,
    # Not contexts: every table in one place for Alembic and the tests, and the migrations that read it.
    "models": EDGES,
    "migrations": EDGES,
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    name: str | None  # the name taken from it (`from target import name`), None for `import target`
    line: int
    lazy: bool  # inside a function


def _module_name(path: Path) -> str:
    parts = ("yidi", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


MODULES = _modules()


def _package(module: str) -> str:
    """The top-level package (context) of a module: yidi.filing.service -> filing."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "yidi":
                        found.append(Import(module, alias.name, None, child.lineno, lazy))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: resolve against this module's package
                    anchor = module.split(".") if is_package else module.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                if base.split(".")[0] != "yidi":
                    continue
                for alias in child.names:
                    submodule = f"{base}.{alias.name}"
                    if submodule in MODULES:  # `from yidi.x import y` where y is a module
                        found.append(Import(module, submodule, None, child.lineno, lazy))
                    else:
                        found.append(Import(module, base, alias.name, child.lineno, lazy))
            visit(child, inner)

    visit(tree, False)
    return found


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]


def _where(imp: Import) -> str:
    what = f"{imp.target}.{imp.name}" if imp.name else imp.target
    return f"{imp.source}:{imp.line} imports {what}{' (inside a function)' if imp.lazy else ''}"


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in IMPORTS:
        if imp.target in MODULES and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    # Importing yidi.x.y runs yidi.x first: a package's __init__ is an edge of every import below it. It adds
    # nothing here as long as no __init__ imports its own modules, so only the explicit edges are kept.
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def connect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
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
            connect(v)
    return found


def _explain(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [
        _where(imp)
        for imp in IMPORTS
        if imp.source in members and imp.target in members and imp.target in graph[imp.source]
    ]
    return " <-> ".join(component) + ":\n    " + "\n    ".join(sorted(set(edges)))


def test_the_modules_are_found() -> None:
    assert {"yidi.core.db", "yidi.filing.service", "yidi.settlement.engine", "yidi.cli"} <= MODULES.keys()
    assert any(imp.lazy for imp in IMPORTS)  # function-level imports are seen too


def test_every_package_has_a_floor() -> None:
    packages = {_package(m) for m in MODULES} - {""}
    assert packages <= FLOORS.keys(), f"give these a floor: {sorted(packages - FLOORS.keys())}"


def test_no_import_loop_between_modules() -> None:
    graph = _graph()
    loops = _cycles(graph)
    assert not loops, "import loops:\n" + "\n".join(_explain(c, graph) for c in loops)


def test_no_import_loop_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for imp in IMPORTS:
        source, target = _package(imp.source), _package(imp.target)
        if source and target and source != target:
            graph.setdefault(source, set()).add(target)
    loops = _cycles(graph)
    details = [
        _where(imp)
        for loop in loops
        for imp in IMPORTS
        if {_package(imp.source), _package(imp.target)} <= set(loop) and _package(imp.source) != _package(imp.target)
    ]
    assert not loops, f"package loops {loops}:\n    " + "\n    ".join(details)


def test_imports_point_down_the_floors() -> None:
    upward = [
        f"{_where(imp)}: floor {FLOORS[_package(imp.source)]} -> {FLOORS[_package(imp.target)]}"
        for imp in IMPORTS
        if _package(imp.source) in FLOORS
        and _package(imp.target) in FLOORS
        and FLOORS[_package(imp.target)] > FLOORS[_package(imp.source)]
    ]
    assert not upward, "imports pointing up:\n    " + "\n    ".join(upward)


def test_no_private_name_crosses_a_package_boundary() -> None:
    crossing = [
        _where(imp)
        for imp in IMPORTS
        if imp.name is not None and imp.name.startswith("_") and _package(imp.source) != _package(imp.target)
    ]
    assert not crossing, "private names taken from another package:\n    " + "\n    ".join(crossing)


def test_no_private_attribute_of_another_package_is_used() -> None:
    """`module._private(...)`: a module of another package imported under a name, then its private name used."""
    crossing: list[str] = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}  # local name -> module it refers to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in MODULES:
                        aliases[alias.asname or alias.name.split(".")[0]] = alias.name
            elif (
                isinstance(node, ast.ImportFrom)
                and node.module
                and f"{node.module}" in {m.rsplit(".", 1)[0] for m in MODULES}
            ):
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in MODULES:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and node.value.id in aliases
                and _package(aliases[node.value.id]) != _package(module)
            ):
                crossing.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not crossing, "private names of another package used:\n    " + "\n    ".join(crossing)
