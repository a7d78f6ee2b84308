"""The maps are the code: docs/architecture.md names every module of the package, and the
README's tables of end reasons and settings are those the code has."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Set

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "rasa_zendesk"


def holds_code(path: Path) -> bool:
    """A module that defines a function or a class (an `__init__.py` that only imports or
    documents its package is left out of the map)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(node, kinds) for node in tree.body)


def package_modules() -> Set[str]:
    """Every module file of the package, as `rasa_zendesk/...` paths."""
    modules = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name in ("__init__.py", "__main__.py") and not holds_code(path):
            continue
        modules.add(path.relative_to(REPO).as_posix())
    return modules


def mapped_paths(markdown: str) -> List[str]:
    """The files and folders of the map's tree (the code block that starts `rasa_zendesk/`),
    as paths: an entry is a name ending in `.py` or `/`, indented two spaces a level;
    deeper-indented lines are descriptions."""
    block = markdown.split("```\nrasa_zendesk/\n", 1)[1].split("```", 1)[0]
    stack = ["rasa_zendesk/"]
    paths = []
    for line in block.splitlines():
        match = re.match(r"^( *)(\S+)", line)
        if match is None:
            continue
        indent, name = len(match.group(1)), match.group(2)
        if indent == 0 or indent > 2 * len(stack) or indent % 2 or not name.endswith(("/", ".py")):
            continue  # a description, or what lies beside the package (testkit/)
        del stack[indent // 2 :]
        paths.append("".join(stack) + name)
        if name.endswith("/"):
            stack.append(name)
    return paths


def test_the_architecture_map_names_every_module_once() -> None:
    paths = mapped_paths((REPO / "docs" / "architecture.md").read_text(encoding="utf-8"))
    modules = [path for path in paths if path.endswith(".py")]
    twice = sorted({path for path in modules if modules.count(path) > 1})
    missing = sorted(package_modules() - set(modules))
    absent = sorted(path for path in paths if not (REPO / path).exists())
    assert not missing, f"docs/architecture.md does not name these modules: {missing}"
    assert not absent, f"docs/architecture.md names what does not exist: {absent}"
    assert not twice, f"docs/architecture.md names these twice: {twice}"


def test_the_map_reader_sees_a_missing_and_an_invented_module() -> None:
    """The check above can fail: the reader finds the entries as the map writes them."""
    markdown = "```\nrasa_zendesk/\n  sunco/             SunCo\n    client.py        x\n" + (
        "                     more about it, with a word/ and a.py\n  nowhere.py  y\n```\n"
    )
    assert mapped_paths(markdown) == [
        "rasa_zendesk/sunco/",
        "rasa_zendesk/sunco/client.py",
        "rasa_zendesk/nowhere.py",
    ]
