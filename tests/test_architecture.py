"""The package structure holds: no import cycles, layers, a small top level, imports at the top.

The cycle check reads every ``import`` statement of ``segmentation/`` and ``widget/``
with :mod:`ast` (those inside functions too) and fails on any cycle between modules;
``segmentation`` may not reach ``widget`` by a run-time lookup either.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from segmentation.evaluation.page_server import open_bench_page

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("segmentation", "widget")


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return mods


def _owner(name: str, mods: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to (a module, or the module holding a name)."""
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """Module -> project modules it imports (a package's own submodules excluded)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        package = mod if is_pkg else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                names = [base, *(f"{base}.{a.name}" for a in node.names)]
            else:
                continue
            for name in names:
                target = _owner(name, mods)
                if target and target != mod and not (is_pkg and target.startswith(mod + ".")):
                    graph[mod].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 50, "the walk found too few modules"
    assert graph["segmentation.session"] >= {"segmentation.store", "segmentation.images"}
    assert find_cycles(graph) == []


def test_lower_layers_do_not_import_upper_ones() -> None:
    """models < conversion < store < session < jobs < evaluation/cli; product < session.

    ``widget`` is above ``segmentation``; in it, protocol and transfer < link (the kernel side
    of every view) < the widgets < ``widget.testing`` (the JupyterLab/Chromium driver) <
    ``widget.bench`` (the benchmarks).
    """
    graph = import_graph()
    layers = [
        ("segmentation.models", ("segmentation.conversion", "segmentation.store")),
        ("segmentation.conversion", ("segmentation.store", "segmentation.session")),
        ("segmentation", ("widget",)),
        ("segmentation", ("segmentation.jobs", "segmentation.evaluation", "segmentation.cli")),
        ("segmentation.jobs", ("segmentation.evaluation", "segmentation.cli")),
        # the product-photo step: below session (which offers it), jobs and the CLI
        (
            "segmentation.product",
            ("segmentation.session", "segmentation.store", "segmentation.conversion"),
        ),
        ("widget.protocol", ("widget.link", "widget.remover", "widget.batch")),
        ("widget.transfer", ("widget.link", "widget.remover", "widget.batch")),
        ("widget.link", ("widget.remover", "widget.batch", "widget.benchmark")),
        # the tooling on top: the driver of tests and benchmarks, then the benchmarks
        ("widget.testing", ("widget.bench",)),
        *((f"widget.{pkg}", ("widget.testing", "widget.bench")) for pkg in _WIDGET_PRODUCT),
    ]
    wrong = []
    for lower, uppers in layers:
        for mod, targets in graph.items():
            entry = mod in ("segmentation", "segmentation.__main__")  # entry points may see all
            if not mod.startswith(lower) or mod.startswith(uppers) or entry:
                continue
            wrong += [f"{mod} -> {t}" for t in targets if t.startswith(uppers)]
    assert wrong == []


#: The widget's own packages and modules: none may import the tooling above them.
_WIDGET_PRODUCT = (
    "protocol", "transfer", "link", "remover", "batch", "engine", "benchmark", "isolation",
    "heap", "static", "__main__",
)  # fmt: skip


def test_the_widget_product_list_is_complete() -> None:
    """Every folder and module of ``widget/`` is product (listed above) or tooling."""
    names = {p.stem for p in (ROOT / "widget").iterdir() if p.suffix == ".py" or p.is_dir()}
    names -= {"__init__", "__pycache__"}
    assert names == {*_WIDGET_PRODUCT, "testing", "bench"}


def test_the_package_root_does_not_import_the_tooling() -> None:
    graph = import_graph()
    assert not {t for t in graph["widget"] if t.startswith(("widget.testing", "widget.bench"))}


def test_no_package_module_imports_the_tests() -> None:
    """``segmentation`` and ``widget`` (the driver and benchmarks too) never import ``tests``."""
    found = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                else:
                    continue
                found += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names
                          if n.split(".")[0] == "tests"]  # fmt: skip
    assert found == []


def test_the_driver_imports_without_playwright_or_websocket_client() -> None:
    """Playwright and websocket-client are test dependencies: the driver imports them lazily."""
    code = (
        "import sys\n"
        "sys.modules['playwright'] = sys.modules['websocket'] = None  # importing them fails\n"
        "import widget.testing.notebook, widget.testing.chromium, widget.testing.widgets\n"
        "import widget.testing.cdp, widget.testing.pages, widget.testing.jupyter_server\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr


#: Calls that reach a package by name at run time, around the import statements read above.
_DYNAMIC_LOOKUPS = {
    "find_spec", "import_module", "__import__", "files", "as_file", "path", "read_text",
    "read_binary", "resource_filename", "resource_string", "get_data", "get_loader",
    "find_loader", "spec_from_file_location", "locate_file",
}  # fmt: skip


def _called_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _widget_lookups(tree: ast.AST) -> list[int]:
    """Lines where a call of :data:`_DYNAMIC_LOOKUPS` names ``widget`` or one of its modules."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node) in _DYNAMIC_LOOKUPS:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                text = arg.value if isinstance(arg, ast.Constant) else None
                if isinstance(text, str) and text.split(".")[0] == "widget":
                    lines.append(node.lineno)
    return lines


def test_the_lookup_finder_finds_a_lookup() -> None:
    found = _widget_lookups(ast.parse(
        "import importlib, importlib.util\n"
        "importlib.util.find_spec('widget')\n"
        "importlib.import_module('widget.transfer.assets')\n"
        "importlib.resources.files(package='widget')\n"
        "importlib.util.find_spec('tqdm')\n"
    ))  # fmt: skip
    assert found == [2, 3, 4]


def test_segmentation_never_looks_up_widget_at_run_time() -> None:
    """``segmentation`` is given what it needs from above (a folder, a path), never finds it.

    ``find_spec("widget")`` or ``importlib.resources.files("widget")`` would reach the upper
    package without an import statement, so the layering tests above would not see it.
    """
    found = []
    for path in (ROOT / "segmentation").rglob("*.py"):
        rel = path.relative_to(ROOT)
        found += [f"{rel}:{line}" for line in _widget_lookups(ast.parse(path.read_text()))]
    assert found == []


def test_the_benchmark_page_is_given_its_front_end() -> None:
    """The headless page serves the folder its caller names; it has no default of its own."""
    front_end = inspect.signature(open_bench_page).parameters["front_end"]
    assert front_end.default is inspect.Parameter.empty


def test_top_level_of_segmentation_is_small() -> None:
    top = sorted(p.name for p in (ROOT / "segmentation").glob("*.py"))
    assert len(top) <= 15, top


def test_project_imports_are_at_module_top() -> None:
    """Imports of the project's own modules inside functions hide layering problems."""
    inner = []
    for path in [*(ROOT / "segmentation").rglob("*.py"), *(ROOT / "widget").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGES):
                    inner.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert inner == []


@pytest.mark.parametrize(
    "code",
    [
        "from segmentation import Segmenter, load_image, remove",
        "from widget import BackgroundRemover, BatchRemover",
        "import segmentation.cli.main, segmentation.evaluation.runner, widget.benchmark",
        "import widget.bench.__main__, widget.testing",
        "import segmentation.jobs.dask_engine",
    ],
)
def test_public_imports_work_in_a_fresh_interpreter(code: str) -> None:
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
