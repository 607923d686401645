"""The package's shape: no import cycles, every module importable first, function-level imports only for
heavy optional dependencies, and modules that read in one sitting (DESIGN: ~400 lines at most)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "gonbench"
OPTIONAL_HEAVY = {"torchvision", "sklearn", "scipy"}  # imported where used: each costs seconds per process
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for _ in range(node.level - 1):
        package = package.rsplit(".", 1)[0]
    return f"{package}.{node.module}" if node.module else package


def module_level_imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Package modules imported at module level (``from . import x`` counts x when x is a module)."""
    targets = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = resolve(module, path, node)
            for alias in node.names:
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
        elif isinstance(node, ast.Import):
            targets |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module in known:
            targets.add(node.module)
    return targets & set(known)


def test_the_import_graph_has_no_cycle():
    known = modules()
    graph = {m: module_level_imports(m, p, known) for m, p in known.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle = trail[trail.index(n):] + [n] if n in trail else [m, n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n, trail + [n])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_every_module_imports_first_in_a_fresh_package_state():
    script = (
        "import importlib, sys\n"
        f"for name in {sorted(m for m in modules() if not m.endswith('__main__'))!r}:\n"
        "    for k in [k for k in sys.modules if k == 'gonbench' or k.startswith('gonbench.')]:\n"
        "        del sys.modules[k]\n"
        "    importlib.import_module(name)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


def test_function_level_imports_are_only_heavy_optional_dependencies():
    found = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Import):
                        names = [a.name for a in sub.names]
                    elif isinstance(sub, ast.ImportFrom):
                        names = ["." * sub.level + (sub.module or "")]
                    else:
                        continue
                    found += [f"{module}:{sub.lineno} {n}" for n in names if n.split(".")[0] not in OPTIONAL_HEAVY]
    assert not found, "function-level imports of non-optional modules: " + "; ".join(found)


def test_modules_read_in_one_sitting():
    long = {m: n for m, p in modules().items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
