"""One helper tier: what tests share lives in `testkit/`, so no test module imports another
(an import of `tests.…` from tests/, testkit/ or bench/ fails here, naming the file)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import List

import pytest

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "testkit", "bench")


def imports_of_tests(source: str) -> List[str]:
    """The modules under `tests` that `source` imports (absolute imports only)."""
    found: List[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name == "tests" or name.startswith("tests.")]
    return found


@pytest.mark.parametrize(
    "source",
    ["from tests.channel.harness import new_id", "import tests.actions.conftest", "import tests"],
)
def test_an_import_of_a_test_module_is_found(source: str) -> None:
    assert imports_of_tests(source) != []


def test_testkit_and_other_packages_are_not_test_modules() -> None:
    assert imports_of_tests("from testkit.channel_harness import new_id\nimport testsuite") == []


def test_no_test_module_imports_another() -> None:
    offenders = {
        str(path.relative_to(REPO)): imported
        for folder in SCANNED
        for path in sorted((REPO / folder).rglob("*.py"))
        if (imported := imports_of_tests(path.read_text()))
    }
    assert offenders == {}, "share it through testkit/ instead: " + repr(offenders)
