"""The package's layers, read statically from the import statements of every module.

    core      imports no other layer
    methods   core                      analysis  methods, core
    store     core                      plots     nothing from the package
    runs      everything below them     study     everything below them
    cli       anything                  (app/ sits on top, outside the package)

and no two modules import each other, directly or through others. The check is run on a
temporary copy with one planted bad import, to show that it fails when it should.

The app (app/) has no import cycles either, and its floors point one way: `app.session`
(every session key) imports nothing from the app, `app.params` (the link) only session,
and `app.widgets` (drawing) sits above the link, never below it."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "core": set(),
    "methods": {"core"},
    "analysis": {"methods", "core"},
    "store": {"core"},
    "plots": set(),
    "runs": {"core", "methods", "analysis", "store"},
    "study": {"core", "methods", "analysis", "store", "runs", "plots"},
    "cli": {"core", "methods", "analysis", "store", "runs", "study", "plots"},  # on top
}


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, package: Path, root: str | None = None) -> set[str]:
    """The modules of package `root` (default: this package) that `path` imports (absolute
    or relative, at any depth)."""
    name, found = module_name(path, package), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".")[: -node.level or None] if path.name != "__init__.py" \
                    else name.split(".")[: len(name.split(".")) - node.level + 1]
                base = ".".join([*here, base] if base else here)
            found |= {f"{base}.{a.name}" for a in node.names}  # a module, or a name in one
    return {m for m in found if m.split(".")[0] == (root or package.name)}


def graph(package: Path) -> dict[str, set[str]]:
    """module -> package modules it imports (names that are modules or packages)."""
    modules = {module_name(p, package) for p in package.rglob("*.py")}
    edges = {}
    for path in package.rglob("*.py"):
        targets = set()
        for target in imports(path, package):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module_name(path, package):
                targets.add(target)
        edges[module_name(path, package)] = targets
    return edges


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def violations(package: Path) -> list[str]:
    out = []
    for module, targets in sorted(graph(package).items()):
        mine = layer(module)
        for target in sorted(targets):
            theirs = layer(target)
            if mine is None or theirs is None or theirs == mine:
                if mine is not None and theirs is None and target != package.name:
                    out.append(f"{module} imports {target}, above every layer")
                continue
            if theirs not in ALLOWED[mine]:
                out.append(f"{module} ({mine}) imports {target} ({theirs})")
    return out


def cycles(package: Path) -> list[list[str]]:
    """Import cycles between modules (each reported once, by depth-first search)."""
    edges, found, state = graph(package), [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_every_layer_imports_only_the_layers_below_it():
    assert violations(ROOT / "explorer") == []


def test_no_module_imports_itself_through_others():
    assert cycles(ROOT / "explorer") == []


def test_the_library_never_imports_streamlit_or_the_app():
    modules = list((ROOT / "explorer").rglob("*.py"))
    assert len(modules) > 30 and ROOT / "explorer" / "core" / "config.py" in modules
    for path in modules:
        for ui in ("streamlit", "app"):
            assert not imports(path, ROOT / "explorer", ui), (path, ui)


def test_every_layer_folder_is_known():
    folders = {p.name for p in (ROOT / "explorer").iterdir()
               if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(ALLOWED)


@pytest.mark.parametrize("bad", [
    ("core/rng.py", "from explorer.methods.das import train_das\n", "core"),
    ("store/paths.py", "from explorer.runs import sweep\n", "store"),
    ("plots/charts.py", "from ..core import config\n", "plots"),
])
def test_the_check_fails_on_a_planted_bad_import(tmp_path, bad):
    where, line, culprit = bad
    copy = tmp_path / "explorer"
    shutil.copytree(ROOT / "explorer", copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / where).write_text(line + (copy / where).read_text())
    found = violations(copy)
    assert len(found) == 1 and f"({culprit})" in found[0], found


def test_a_planted_cycle_is_found(tmp_path):
    copy = tmp_path / "explorer"
    shutil.copytree(ROOT / "explorer", copy, ignore=shutil.ignore_patterns("__pycache__"))
    config = copy / "core" / "config.py"  # core.task imports core.config
    config.write_text("from explorer.core import task\n" + config.read_text())
    assert any("explorer.core.config" in c and "explorer.core.task" in c for c in cycles(copy))


APP_FLOORS = {"app.glossary": set(), "app.session": set(), "app.params": {"app.session"},
              "app.widgets": {"app.glossary", "app.session", "app.params"}}
APP_ORDER = ("glossary", "session", "params", "widgets", "figures", "glance", "stores", "nearest", "jobs",
             "live", "common", "precomputed", "dial", "spread", "model_source", "planted",
             "sidebar", "exports", "findings", "compare", "tour", "pages")  # as app/__init__.py lists them, bottom floor first


def test_the_app_has_no_import_cycles():
    assert cycles(ROOT / "app") == []


def test_the_apps_lowest_floors_import_only_the_floors_below():
    edges = graph(ROOT / "app")
    assert {module: edges[module] for module in APP_FLOORS} == APP_FLOORS


def test_a_planted_app_cycle_is_found(tmp_path):
    copy = tmp_path / "app"
    shutil.copytree(ROOT / "app", copy, ignore=shutil.ignore_patterns("__pycache__"))
    session = copy / "session.py"  # app.params imports app.session
    session.write_text("from app import params\n" + session.read_text())
    assert any("app.session" in c and "app.params" in c for c in cycles(copy))


def test_every_app_module_imports_only_modules_listed_before_it():
    def floor(module: str) -> int:
        return APP_ORDER.index(module.split(".")[1]) if "." in module else -1
    edges = graph(ROOT / "app")
    assert {m.split(".")[1] for m in edges if "." in m} == set(APP_ORDER)
    assert [(m, t) for m, targets in edges.items() for t in targets
            if floor(t) >= floor(m)] == []
    doc = (ROOT / "app" / "__init__.py").read_text()
    listed = [w for line in doc.splitlines()[3:] for w in line.split()[:2]
              if w.rstrip(",/") in APP_ORDER]
    assert [w.rstrip(",/") for w in listed] == list(APP_ORDER)
