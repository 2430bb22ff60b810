"""The house rules of docs/architecture.md, read from the source with `ast`.

The import graph of `backend/folio` has no cycle; the pipeline imports no web, queue or
database framework and nothing of Folio's outside itself and the error root; the services
import neither the HTTP layer nor the Celery plumbing nor operations code. Every import
counts, a lazy one inside a function too; only `if TYPE_CHECKING:` blocks are left out.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "backend" / "folio"
FRAMEWORKS = ("flask", "flask_", "celery", "kombu", "sqlalchemy", "alembic", "werkzeug")
# Folio's HTTP layer, Celery plumbing, operations code and doors: above the services.
ABOVE_SERVICES = (
    "folio.web",
    "folio.api",
    "folio.taskqueue",
    "folio.ops",
    "folio.tasks",
    "folio.worker",
    "folio.app",
    "folio.wsgi",
    "folio.cli",
    "folio.commands",
)


def module_name(path: Path) -> str:
    """`backend/folio/a/b.py` → `folio.a.b`; a package's `__init__.py` → the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def _outside_type_checking(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of `tree` except those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for child in node.orelse:
                yield child
                yield from _outside_type_checking(child)
            continue
        yield node
        yield from _outside_type_checking(node)


def imports_of(module: str) -> set[str]:
    """The absolute names `module` imports: modules, or `package.name` for a from-import."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in _outside_type_checking(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1]])
                base = f"{base}.{node.module}" if node.module else base
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def folio_edges(module: str) -> set[str]:
    """The Folio modules `module` depends on (a from-import of a name: its module)."""
    return {name for name in imports_of(module) if name in MODULES and name != module}


def find_cycle() -> list[str] | None:
    """One import cycle among Folio's modules, or None."""
    graph = {module: folio_edges(module) for module in MODULES}
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    """Whether the dotted `name` is one of `prefixes` or inside one."""
    return any(name == prefix or name.startswith(f"{prefix}.") for prefix in prefixes)


def modules_under(prefix: str) -> list[str]:
    return sorted(module for module in MODULES if within(module, (prefix,)))


def test_the_graph_is_read_from_the_source() -> None:
    # A reader that found nothing would pass every rule below.
    assert len(MODULES) > 80
    assert "folio.services.credits" in folio_edges("folio.services.jobs")
    assert "folio.pipeline.processors.llm.processor" in folio_edges("folio.pipeline.processors")


def test_no_import_cycle() -> None:
    assert find_cycle() is None


def test_a_cycle_would_be_found(monkeypatch: pytest.MonkeyPatch) -> None:
    real = folio_edges

    def with_a_cycle(module: str) -> set[str]:
        extra = {"folio.services.jobs"} if module == "folio.services.dispatch" else set()
        return real(module) | extra

    monkeypatch.setattr(f"{__name__}.folio_edges", with_a_cycle)
    cycle = find_cycle()
    assert cycle is not None and cycle[0] == cycle[-1]
    assert {"folio.services.dispatch", "folio.services.jobs"} <= set(cycle)


@pytest.mark.parametrize("module", modules_under("folio.pipeline"))
def test_the_pipeline_is_plain_code(module: str) -> None:
    imported = imports_of(module)
    frameworks = sorted(n for n in imported if n.split(".")[0].startswith(FRAMEWORKS))
    assert not frameworks, f"{module} imports {frameworks}"
    folio = {n for n in imported if within(n, ("folio",))}
    outside = sorted(n for n in folio if not within(n, ("folio.pipeline", "folio.errors")))
    assert not outside, f"{module} imports {outside}"


@pytest.mark.parametrize("module", modules_under("folio.services"))
def test_services_stay_below_http_and_celery_plumbing(module: str) -> None:
    above = sorted(n for n in imports_of(module) if within(n, ABOVE_SERVICES))
    assert not above, f"{module} imports {above}"


@pytest.mark.parametrize("module", modules_under("folio.models"))
def test_models_import_no_service_or_layer_above(module: str) -> None:
    above = sorted(n for n in imports_of(module) if within(n, (*ABOVE_SERVICES, "folio.services")))
    assert not above, f"{module} imports {above}"


def test_the_package_root_holds_only_settings_assembly_and_doors() -> None:
    root = sorted(path.stem for path in PACKAGE.glob("*.py"))
    assert root == [
        "__init__",
        "app",
        "cli",
        "commands",
        "config",
        "errors",
        "extensions",
        "logs",
        "tasks",
        "worker",
        "wsgi",
    ]


def test_every_data_file_of_the_package_is_shipped() -> None:
    """A file the code reads at run time (a prompt) is in the wheel's package data."""
    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["folio"]
    data = [
        path.relative_to(PACKAGE)
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"}
    ]
    assert data, "the package has data files (py.typed, prompts)"
    unshipped = [str(path) for path in data if not any(path.match(p) for p in patterns)]
    assert not unshipped
