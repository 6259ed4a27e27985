"""Imports run one way: datasets -> transforms -> nn / models -> train -> CLI, over the math layer.

Every module of the package is parsed (imports inside functions count too) and
checked against the layering rules; the module-level imports between
topoequi's own modules must form no circle.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "topoequi"
UPPER_LAYERS = ("topoequi.nn", "topoequi.models", "topoequi.train", "topoequi.commands", "topoequi.cli")
RULES = [  # (modules under these prefixes, may not import these prefixes)
    (("topoequi.symmetry", "topoequi.topology", "topoequi.lattice", "topoequi.graph"), UPPER_LAYERS),
    (("topoequi.nn",), ("matplotlib",)),  # layers compute; plots live with testing and training
    (("topoequi.symmetry",), ("torch_geometric",)),  # the group math is plain torch
    (("topoequi.nn", "topoequi.models"), ("topoequi.train", "topoequi.commands", "topoequi.cli")),
    (("topoequi.train",), ("topoequi.commands", "topoequi.cli")),
]


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The modules an import statement names (``from a import b`` names ``a`` and ``a.b``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:  # relative import
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join(anchor + ([base] if base else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _module_level(tree: ast.Module):
    """Import statements run at import time (skipping ``if TYPE_CHECKING:`` blocks and function bodies)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack += node.orelse
        elif isinstance(node, (ast.If, ast.Try)):
            stack += node.body + node.orelse + getattr(node, "finalbody", [])
            stack += [n for h in getattr(node, "handlers", []) for n in h.body]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def _modules() -> dict[str, tuple[Path, ast.Module]]:
    return {_name(p): (p, ast.parse(p.read_text(), str(p))) for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_walk_sees_the_package():
    assert {"topoequi.symmetry.group", "topoequi.nn", "topoequi.commands.reduce", "topoequi.cli"} <= set(MODULES)


def test_no_wrong_way_import():
    wrong = []
    for module, (path, tree) in MODULES.items():
        for node in ast.walk(tree):
            for target in _targets(node, module, path.name == "__init__.py"):
                for sources, forbidden in RULES:
                    if _under(module, sources) and _under(target, forbidden):
                        wrong.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {target}")
    assert not wrong, "wrong-way imports:\n" + "\n".join(sorted(set(wrong)))


def _import_graph() -> dict[str, set[str]]:
    """Module -> the topoequi modules it imports at import time (``from pkg import sub`` is ``pkg.sub``)."""
    graph = {}
    for module, (path, tree) in MODULES.items():
        graph[module] = set()
        for node in _module_level(tree):
            base, *names = _targets(node, module, path.name == "__init__.py")
            if isinstance(node, ast.ImportFrom):  # the package itself only for names that are not modules
                names = [n if n in MODULES else base for n in names]
            else:
                names.append(base)
            graph[module] |= {t for t in names if t in MODULES and t != module}
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, path + [nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_no_import_circle():
    cycle = _find_cycle(_import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("graph, has_cycle", [({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
                                              ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, False)])
def test_the_cycle_finder_itself(graph, has_cycle):
    assert (_find_cycle(graph) is not None) == has_cycle
