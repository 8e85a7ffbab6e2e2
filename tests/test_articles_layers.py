"""feedpub.articles is layered: no import cycle among its modules, and no import of feedpub
inside a function (or under TYPE_CHECKING) to get round one. Read from the source with ast, so
that imports made only when a function runs count too."""

from __future__ import annotations

import ast
from pathlib import Path

import feedpub.articles

PACKAGE = Path(feedpub.articles.__file__).parent
# what the articles package may import of feedpub's besides itself: pure modules only
ALLOWED_OUTSIDE = {"feedpub.errors", "feedpub.model", "feedpub.private", "feedpub.slug"}


def _imports() -> dict[str, dict[str, bool]]:
    """module -> feedpub module it imports -> whether only at module level."""
    out: dict[str, dict[str, bool]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        name = "feedpub.articles" + ("" if path.stem == "__init__" else f".{path.stem}")
        found: dict[str, bool] = {}

        def visit(node: ast.AST, top: bool, found: dict[str, bool] = found) -> None:
            for child in ast.iter_child_nodes(node):
                inner = top and not isinstance(
                    child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                )
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    inner = False
                if isinstance(child, ast.ImportFrom) and (child.module or "").startswith("feedpub"):
                    target = child.module or ""
                    found[target] = found.get(target, True) and inner
                elif isinstance(child, ast.Import):
                    for alias in child.names:
                        if alias.name.startswith("feedpub"):
                            found[alias.name] = found.get(alias.name, True) and inner
                visit(child, inner)

        visit(ast.parse(path.read_text(encoding="utf-8")), True)
        out[name] = found
    return out


def test_no_feedpub_import_inside_a_function() -> None:
    late = [
        (module, target)
        for module, targets in _imports().items()
        for target, top in targets.items()
        if not top
    ]
    assert late == []


def test_articles_import_no_writer_or_build() -> None:
    outside = {
        (module, target)
        for module, targets in _imports().items()
        for target in targets
        if not target.startswith("feedpub.articles") and target not in ALLOWED_OUTSIDE
    }
    assert outside == set()


def test_no_import_cycle() -> None:
    graph = {
        module: {t for t in targets if t.startswith("feedpub.articles.")}
        for module, targets in _imports().items()
    }
    done: set[str] = set()

    def walk(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path[path.index(module) :], module))
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            walk(target, (*path, module))
        done.add(module)

    for module in sorted(graph):
        walk(module, ())
