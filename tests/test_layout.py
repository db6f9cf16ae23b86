"""The direction of the arrows between packages, checked on the source (imports parsed with
`ast`, function-level ones included, and Tortoise's string foreign keys such as "core.User").

    core    → nothing of ours (the kernel knows no feature)
    budget  → core
    consult → core, and budget's services (a need becomes a proposal) and models (as
              foreign keys)
    app.py, manage.py → anything; nothing imports them

and no cycle between modules, not even through an import inside a function.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "budget", "consult")
TOP_MODULES = ("app", "manage")
OURS = PACKAGES + TOP_MODULES

# What each package may import of ours, as module-name prefixes.
ALLOWED = {
    "core": ("core",),
    "budget": ("core", "budget"),
    "consult": ("core", "consult", "budget.services", "budget.models"),
    "app": OURS,
    "manage": ("core", "budget", "consult"),
}
RELATION_FIELDS = {"ForeignKeyField", "OneToOneField", "ManyToManyField"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {name: ROOT / f"{name}.py" for name in TOP_MODULES}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _references(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, module of ours) for every import in the file, and for every string foreign key
    ("budget.Proposal" → budget.models)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            # `from budget.rules import greedy` imports the module budget.rules.greedy
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in RELATION_FIELDS and node.args and isinstance(node.args[0], ast.Constant):
                target = node.args[0].value
                if isinstance(target, str) and "." in target:
                    models = f"{target.split('.')[0]}.models"
                    # a model naming one of its own app's models is no import (Tortoise
                    # resolves it once all of the app's model modules are loaded)
                    if not (module == models or module.startswith(models + ".")):
                        found.append((node.lineno, models))
    return [(line, name) for line, name in found if name.split(".")[0] in OURS]


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that `name` (a module, or a name inside one) refers to."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _violations(module: str, where: str, references: list[tuple[int, str]]) -> list[str]:
    allowed = ALLOWED[module.split(".")[0]]
    wrong = []
    for line, name in references:
        if name.split(".")[0] in TOP_MODULES:
            wrong.append(f"{where}:{line} imports {name}")
        elif not any(name == a or name.startswith(a + ".") for a in allowed):
            wrong.append(f"{where}:{line} refers to {name}")
    return wrong


def test_packages_import_only_down_the_arrows():
    wrong = []
    for module, path in _sources().items():
        where = str(path.relative_to(ROOT))
        wrong += _violations(module, where, _references(path, module))
    assert wrong == []


def test_no_import_cycles():
    modules = _sources()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = {_resolve(name, modules) for _line, name in _references(path, module)}
        graph[module] = {t for t in targets if t and t != module}
    cycles = _cycles(graph)
    assert cycles == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from consult.models import X", "budget/x.py:1 refers to consult.models.X"),
        ("def f():\n    import app", "budget/x.py:2 imports app"),
        ('f = fields.ForeignKeyField("consult.Need")', "budget/x.py:1 refers to consult.models"),
        ("from budget.services import proposals", None),
    ],
)
def test_the_checker_sees_lazy_imports_and_string_foreign_keys(tmp_path, source, expected):
    path = tmp_path / "x.py"
    path.write_text(source)
    wrong = _violations("budget.x", "budget/x.py", _references(path, "budget.x"))
    assert wrong == ([expected] if expected else [])


def test_a_cycle_is_found():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_readme_layout_names_everything_a_newcomer_meets():
    """Every top-level file and folder, and every module and folder of core/ and budget/,
    is named in the README's layout section."""
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("```")[1]
    named = {word.rstrip(",") for line in layout.splitlines() for word in line.split()}
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {path.split("/")[0] + ("/" if "/" in path else "") for path in tracked}
    top -= {"README.md", ".gitignore"}
    top = {".ci/run" if entry == ".ci/" else entry for entry in top}
    inner = set()
    for package in ("core", "budget"):
        for path in (ROOT / package).iterdir():
            if path.name in ("__init__.py", "__pycache__"):
                continue
            if path.suffix == ".py" or path.is_dir():
                inner.add(path.name + ("/" if path.is_dir() else ""))
    assert sorted((top | inner) - named) == []
