"""The test suite's own shape: helpers shared by tests live in tests/support, nowhere else."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# The tiers' packages: their modules are tests and conftests, never helpers
TIERS = {"tests.unit", "tests.integration", "tests.e2e", "tests.browser"}


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, wherever in it (a function's own imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_of_the_tests_imports_a_test_module_or_a_conftest() -> None:
    # Given every module of the suite, test modules, conftests and helpers alike
    modules = sorted(TESTS.rglob("*.py"))
    # Then none imports a module of a tier (a test module, a tier's conftest)
    imports = {
        str(path.relative_to(TESTS)): sorted(
            name for name in imported_modules(path) if ".".join(name.split(".")[:2]) in TIERS
        )
        for path in modules
    }
    assert {path: names for path, names in imports.items() if names} == {}


def test_the_check_sees_an_import_of_a_test_module(tmp_path: Path) -> None:
    module = tmp_path / "test_x.py"
    module.write_text(
        "from tests.integration.test_worker import queued\n"
        "def test_y():\n    import tests.e2e.conftest\n"
    )
    assert imported_modules(module) >= {"tests.integration.test_worker", "tests.e2e.conftest"}
