"""The package's shape: subpackages by stage, imports that run one way, no circles.

Every module's imports are read from its source (ast: top-level, function-level and
TYPE_CHECKING imports alike). An import between two parts of the package must be in ALLOWED,
and no module may reach itself through imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "workflow" / "helgenom"

# Which part may import which (besides itself). "base" is helgenom/__init__.py, errors,
# runtime and data: the shared bottom. cli -> engines (rank, qc, sv, report) -> sheets, io.
# Engines do not import each other; the simulator imports no engine.
BASE = {"base"}
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "io": BASE,
    "sheets": BASE | {"io"},
    "rank": BASE | {"io", "sheets"},
    "qc": BASE | {"io", "sheets"},
    "sv": BASE | {"io", "sheets"},
    "report": BASE | {"io", "sheets"},
    "annotate": BASE | {"io", "sheets"},
    "freqdb": BASE | {"io", "sheets"},
    "mito": BASE | {"io", "sheets"},
    "repeats": BASE | {"io", "sheets"},
    "bundle": BASE | {"io", "sheets"},
    "simulate": BASE,
    "cli": BASE | {"io", "sheets", "rank", "qc", "sv", "report", "annotate", "freqdb",
                   "simulate", "mito", "repeats", "bundle"},
}
STAGES = set(ALLOWED) - {"base"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """helgenom.rank.chunked -> rank; helgenom, helgenom.errors -> base."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else "base"


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that `path` imports (`from helgenom.io import vcf` is
    helgenom.io.vcf; `from helgenom.io.vcf import Genotypes` is helgenom.io.vcf)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("helgenom")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if not source.startswith("helgenom"):
                continue
            submodules = {f"{source}.{alias.name}" for alias in node.names} & modules
            found |= submodules or {source}
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    return {name: imports_of(path, set(modules)) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_a_subpackage_per_stage() -> None:
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").is_file(), stage
    flat = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert flat == ["__init__.py", "errors.py", "runtime.py"], flat


def test_no_import_circles() -> None:
    assert cycles(import_graph()) == []


def test_imports_run_one_way() -> None:
    wrong = sorted(f"{source} -> {target}" for source, targets in import_graph().items()
                   for target in targets
                   if part_of(target) != part_of(source)
                   and part_of(target) not in ALLOWED[part_of(source)])
    assert wrong == []


def test_engines_register_no_commands() -> None:
    """Argument parsing and handlers live in helgenom.cli, one module per command."""
    for name, path in package_modules().items():
        if part_of(name) != "cli":
            source = path.read_text()
            assert "add_parser(" not in source and "import argparse" not in source, name


def test_each_command_is_handled_by_the_module_of_its_name() -> None:
    from helgenom.cli import COMMANDS, build_parser

    parser = build_parser()
    for command in COMMANDS:
        module = __import__(f"helgenom.cli.{command.replace('-', '_')}",
                            fromlist=["run", "register"])
        assert callable(module.run) and callable(module.register), command
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert sorted(subparsers.choices) == sorted(COMMANDS)
    for command, sub in subparsers.choices.items():
        expected = f"helgenom.cli.{command.replace('-', '_')}"
        assert sub.get_default("func").__module__ == expected, command


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
])
def test_cycle_finder(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


def test_import_reader_resolves_submodules() -> None:
    modules = set(package_modules())
    source = PACKAGE / "rank" / "run.py"
    found = imports_of(source, modules)
    assert {"helgenom.rank.candidates", "helgenom.rank.chunked",
            "helgenom.sheets.pedigree"} <= found
    assert part_of("helgenom.errors") == "base" and part_of("helgenom.io.vcf") == "io"


def test_every_command_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    from helgenom.cli import COMMANDS, main

    for command in COMMANDS:
        with pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0, command
        assert f"usage: helgenom {command}" in capsys.readouterr().out
