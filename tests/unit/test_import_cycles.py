"""Imports only point downward: no module of ours imports, directly or through others, a module importing it.

The graph is read from the source (every `import`, also those inside functions: a lazy import still ties
two modules together), so nothing is imported to check it.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from tests.helpers.paths import REPO

PACKAGES = ("genostream", "loader", "gateway", "bench")


def module_names(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of `packages` under `root`."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of `modules` that module `name` (source `path`) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from a import b` imports module a.b when there is one, else the name b of module a.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.c` of an attribute: its module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    modules = module_names(root, packages)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules, first repeated last), or None."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        return list(exc.args[1])
    return None


def test_no_import_cycle() -> None:
    graph = import_graph(REPO, PACKAGES)
    assert {"gateway.app", "gateway.state", "loader.load", "genostream.errors"} <= graph.keys()
    assert "gateway.state" in graph["gateway.routes.health"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(reversed(cycle or []))


# The gateway's rooms, and the rooms each may not import (directly): the routes sit on top; the analyses
# and the HTTP plumbing do not know each other; the SQL guard answers no route.
GATEWAY_LAYERS = {
    "gateway.analyses": ("gateway.http", "gateway.routes", "gateway.sqlguard", "gateway.app"),
    "gateway.http": ("gateway.analyses", "gateway.routes", "gateway.sqlguard", "gateway.app"),
    "gateway.sqlguard": ("gateway.analyses", "gateway.routes", "gateway.app"),
}


def test_gateway_subpackages_import_only_downward() -> None:
    graph = import_graph(REPO, ("gateway",))
    assert {"gateway.analyses.cells", "gateway.http.endpoint", "gateway.sqlguard.guard"} <= graph.keys()
    assert "gateway.analyses.cells" in graph["gateway.analyses.correlation"]
    wrong = sorted(
        f"{module} imports {target}"
        for room, forbidden in GATEWAY_LAYERS.items()
        for module, targets in graph.items()
        if module.startswith(room + ".")
        for target in targets
        if target.startswith(forbidden)
    )
    assert not wrong, "; ".join(wrong)
    routes = {m for m in graph if m.startswith("gateway.routes")}
    outside = sorted(
        m for m, targets in graph.items() if m not in routes and targets & (routes - {"gateway.routes"})
    )
    assert outside == [], f"only the app registers the routes: {outside}"


def test_a_cycle_through_a_lazy_relative_import_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "routes").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text("def create():\n    from pkg.routes import views\n")
    (package / "routes" / "__init__.py").write_text("")
    (package / "routes" / "views.py").write_text("from ..app import create\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.app"] == {"pkg.routes.views"}
    assert graph["pkg.routes.views"] == {"pkg.app"}
    assert set(find_cycle(graph) or []) == {"pkg.app", "pkg.routes.views"}
    assert find_cycle({"a": {"b"}, "b": set()}) is None
