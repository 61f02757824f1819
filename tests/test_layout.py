"""The package's layout rules: the core never reaches up into a surface.

* no module outside ``hotspot.cli`` and ``hotspot.app`` imports them or
  ``streamlit``;
* ``hotspot.cli`` and ``hotspot.app`` do not import each other (one named
  exception: ``hotspot serve`` warms the app's caches before starting it);
* no import cycle between modules (imports at module level);
* no module over 600 lines without a reason written at its top.

Imports are read from the source with :mod:`ast`, including those inside
functions (a deferred import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hotspot"
SURFACES = ("hotspot.cli", "hotspot.app")
#: Surface-to-surface edges allowed, each with its reason.
ALLOWED_SURFACE_EDGES = {
    ("hotspot.cli.serve", "hotspot.app.warm"):
        "`hotspot serve` computes the app's default view before serving it",
}
MAX_LINES = 600
#: The marker a long module's docstring carries, followed by its reason.
LONG_MARKER = "Why this module is long:"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    if top_level_only:  # also imports under `if TYPE_CHECKING:` are not runtime
        nodes = [n for n in nodes if isinstance(n, ast.Import | ast.ImportFrom)]
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            for alias in node.names:  # "from hotspot.x import module"
                candidate = f"{node.module}.{alias.name}"
                if candidate in MODULES:
                    found.add(candidate)
    return found


def _is_in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_core_never_imports_a_surface_or_streamlit(module: str) -> None:
    if any(_is_in(module, s) for s in SURFACES):
        return
    bad = sorted(name for name in _imports(MODULES[module], top_level_only=False)
                 if any(_is_in(name, s) for s in SURFACES)
                 or _is_in(name, "streamlit"))
    assert bad == [], f"{module} (core) imports {bad}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES
                                          if any(_is_in(m, s) for s in SURFACES)),
                         ids=str)
def test_surfaces_do_not_import_each_other(module: str) -> None:
    mine = next(s for s in SURFACES if _is_in(module, s))
    other = next(s for s in SURFACES if s != mine)
    bad = sorted(name for name in _imports(MODULES[module], top_level_only=False)
                 if _is_in(name, other) and (module, name)
                 not in ALLOWED_SURFACE_EDGES)
    assert bad == [], f"{module} imports {bad} from the other surface"


def test_no_import_cycles() -> None:
    graph = {m: {n for n in _imports(p, top_level_only=True) if n in MODULES
                 and n != m} for m, p in MODULES.items()}
    seen: dict[str, int] = {}  # 1 on the stack, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in seen:
                visit(nxt, [*stack, nxt])
        seen[node] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_long_modules_say_why(module: str) -> None:
    path = MODULES[module]
    lines = path.read_text(encoding="utf-8").count("\n")
    if lines <= MAX_LINES:
        return
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert LONG_MARKER in doc, (
        f"{module} has {lines} lines: split it, or give the reason at its top "
        f"('{LONG_MARKER} ...')")


def test_the_rules_can_fail() -> None:
    """The import reader finds deferred imports (so a planted edge would fail)."""
    found = _imports(MODULES["hotspot.cli.detect"], top_level_only=False)
    assert "hotspot.analysis" in found
    assert "hotspot.analysis" not in _imports(MODULES["hotspot.cli.detect"],
                                              top_level_only=True)


def test_the_command_line_lists_the_input_formats_of_the_readers() -> None:
    from hotspot.cli.ingest import INPUT_FORMATS
    from hotspot.ingest.sources import FORMATS

    assert INPUT_FORMATS == FORMATS


def test_help_loads_no_analysis_library() -> None:
    """``hotspot --help`` builds the parser without pandas, geopandas or scipy."""
    import subprocess
    import sys

    code = ("import sys; from hotspot.cli.main import build_parser; build_parser(); "
            "print(','.join(m for m in ('pandas', 'geopandas', 'scipy', 'matplotlib',"
            " 'streamlit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_every_app_cache_is_bounded() -> None:
    """Each ``st.cache_data`` keeps a bounded number of entries for a bounded time."""
    root = PACKAGE.parent
    unbounded = []
    for path in [*sorted((PACKAGE / "app").glob("*.py")),
                 *sorted((root / "app_pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                if ast.unparse(target) != "st.cache_data":
                    continue
                keys = {k.arg for k in dec.keywords} if isinstance(dec, ast.Call) \
                    else set()
                if not {"max_entries", "ttl"} <= keys:
                    unbounded.append(f"{path.name}:{node.name}")
    assert unbounded == []


def test_an_unexpected_error_is_one_line_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from hotspot import settings
    from hotspot.cli import detect, main

    def broken(args: object) -> int:
        raise KeyError("boom")

    monkeypatch.setattr(settings, "APP_DATA_DIR", tmp_path)
    monkeypatch.setattr(detect, "run", broken)
    status = main.main(["detect", str(tmp_path), "--out", str(tmp_path / "x.gpkg")])
    err = capsys.readouterr().err
    assert status == 3
    assert "Traceback" not in err and "unexpected error (KeyError" in err
    logged = list((tmp_path / "errors").glob("hotspot-detect-*.txt"))
    assert logged and "KeyError" in logged[0].read_text(encoding="utf-8")
