"""The import graph of the deployed code (shared/, functions/, api/): no cycle, and no module
imports one of a layer above it (docs/architecture.md, "Layers").

Every import counts, at module level or inside a function (a lazy import is still a dependency),
and so does a route table's ``lazy("module:attr")`` reference; only ``if TYPE_CHECKING:`` blocks
are left out (they never run).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("shared", "functions", "api")

# Top to bottom; a module's layer is its longest matching prefix. A module may import its own
# layer or any below it.
LAYERS: list[tuple[str, ...]] = [
    ("functions", "api"),  # the platform adapters
    ("shared.app",),  # the WSGI app: preflight, origin, signature, route, envelope, CORS
    ("shared.routes.table",),  # the route table: every route module, once
    ("shared.routes",),  # the routes, the model pipeline, the declaration type
    ("shared.scope",),  # one request's scope
    ("shared.auth", "shared.limits", "shared.upstreams", "shared.schemas"),  # who calls, spend, upstreams, bodies
    ("shared.http", "shared.cors", "shared.proxy_signature", "shared.credentials", "shared.log_redaction"),
    ("shared.redaction",),
    ("shared.token_forms",),
    (
        "shared.settings",
        "shared.setting_rules",
        "shared.adapter",
        "shared.deadline",
        "shared.telemetry",
        "shared.tracing",
    ),
    ("shared.config",),
    ("shared.errors", "shared.envelope", "shared"),
]
_LAZY = re.compile(r"""lazy\(\s*f?["']([\w.]+):""")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text())
    skipped = {
        id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node) for n in ast.walk(node)
    }
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                out.add(sub if sub in known else node.module)
    out.update(_LAZY.findall(path.read_text()))
    return {name for name in out if name in known}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def layer_of(module: str) -> int:
    best, rank = -1, None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank is not None, f"{module} is in no layer: add it to LAYERS and docs/architecture.md"
    return rank


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_deployed_code_has_no_import_cycle():
    assert cycles(graph()) == []


def test_no_module_imports_one_of_a_layer_above_it():
    upward = [
        f"{module} -> {target}"
        for module, targets in graph().items()
        for target in targets
        if layer_of(target) < layer_of(module)
    ]
    assert upward == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_the_cycle_finder_finds_cycles(edges, expected):
    # the checker itself can fail: a two- and a three-module circle are found, a chain is not
    assert cycles(edges) == expected


def test_lazy_imports_are_followed():
    # GIVEN the model pipeline, imported only inside ProxyApp._run, and the routes' lazy upstreams
    edges = graph()
    assert "shared.routes.model" in edges["shared.app"]
    assert "shared.upstreams.huggingface" in edges["shared.routes.chat"]
