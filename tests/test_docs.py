"""The maps are the code: docs/architecture.md names every module of the package, the tables of
end reasons (docs/how-it-works.md) and settings (docs/settings.md) are those the code has, and
every link between the README and docs/ leads to a file and heading that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

from rasa_zendesk.handoff import endings, state
from rasa_zendesk.settings import (
    REQUIRED,
    SHARED_SETTINGS,
    Connectors,
    Sources,
    ZendeskSettings,
)

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


def table_rows(markdown: str, header: str) -> List[Dict[str, str]]:
    """The rows of the Markdown table whose header row starts with `header`, by column, with
    the cells' backticks taken off."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    columns = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().replace("`", "") for cell in line.strip().strip("|").split("|")]
        rows.append(dict(zip(columns, cells)))
    return rows


def doc(name: str) -> str:
    return (REPO / "docs" / name).read_text(encoding="utf-8")


def test_the_table_of_end_reasons_is_the_table_of_endings() -> None:
    rows = {row["reason"]: row for row in table_rows(doc("how-it-works.md"), "| reason | how |")}
    missing = [reason for reason in state.END_REASONS if reason not in rows]
    extra = [reason for reason in rows if reason not in state.END_REASONS]
    assert not missing and not extra, f"end reasons: missing {missing}, extra {extra}"
    for reason in state.END_REASONS:
        row, ending = rows[reason], endings.ending_for(reason)
        heard = ending.response or "nothing"
        assert row["the user hears"].startswith(heard), (reason, row["the user hears"], heard)
        released = row["in Zendesk"].startswith("released")
        assert released == ending.releases, (reason, row["in Zendesk"], ending.releases)
        then = {
            endings.AFTER_HANDOFF: "a new session, then after_handoff_action",
            endings.NEW_SESSION: "a new session",
        }.get(ending.then, ending.then)
        assert row["then"].startswith(str(then)), (reason, row["then"], then)


class Recorder:
    """Settings sources that note every key a parser asks for (as `Sources` does, through
    its `text` and `raw`), with the default the parser gives where it gives one."""

    def __init__(self) -> None:
        self.asked: Dict[str, object] = {}
        environ = {f"ZENDESK_{key.upper()}": "x" for key in REQUIRED}
        recorder = self

        class Recording(Sources):
            def text(self, name: str) -> Optional[str]:
                recorder.asked.setdefault(name, None)
                return super().text(name)

            def raw(self, name: str) -> Any:
                recorder.asked.setdefault(name, None)
                return super().raw(name)

            def names(self, name: str, default: Tuple[str, ...] = ()) -> Tuple[str, ...]:
                recorder.asked[name] = default
                return super().names(name, default)

            def flag(self, name: str, default: bool) -> bool:
                recorder.asked[name] = default
                return super().flag(name, default)

            def _number(self, name: str, default: Any, *rest: Any) -> Any:
                recorder.asked[name] = default
                return super()._number(name, default, *rest)

        self.sources = Recording(None, environ)

    def keys(self) -> Set[str]:
        return set(self.asked)


def parsed_settings() -> Dict[str, Tuple[object, bool]]:
    """Every key settings.py parses: the value it takes when not given (None for required
    keys, and for those that are not one value of a settings object), and whether each
    connector has its own."""
    every, per_connector = Recorder(), Recorder()
    values = vars(Connectors.read(every.sources).default).copy()
    for group in SHARED_SETTINGS:
        group.read(every.sources)
    values.update({key: value for key, value in every.asked.items() if value is not None})
    ZendeskSettings.read(per_connector.sources)
    return {
        key: (values.get(key), key in per_connector.keys())
        for key in sorted(every.keys() | per_connector.keys())
    }


def shown(value: object) -> str:
    """A default as docs/settings.md writes it."""
    if value is None or value == ():
        return "none"
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def test_the_table_of_settings_is_what_settings_py_parses() -> None:
    table = table_rows(doc("settings.md"), "| setting | environment |")
    rows = {row["setting"]: row for row in table}
    parsed = parsed_settings()
    missing = sorted(set(parsed) - set(rows))
    extra = sorted(set(rows) - set(parsed))
    assert not missing and not extra, f"settings: missing {missing}, extra {extra}"
    for key, (value, per_connector) in parsed.items():
        row = rows[key]
        assert row["environment"] == Sources().env_name(key), (key, row["environment"])
        assert row["per connector"] == ("yes" if per_connector else "no"), key
        if key in REQUIRED:
            assert row["default"] == "required", (key, row["default"])
        elif value is None or isinstance(value, (bool, int, float, str, tuple)):
            assert row["default"].startswith(shown(value)), (key, row["default"], value)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(path: Path) -> List[str]:
    """The relative links of one markdown file whose file, or heading, does not exist."""
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue  # an address on the web
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(target)
        elif fragment and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.*)$", linked.read_text(encoding="utf-8"), re.M)
            if fragment not in {anchor(heading) for heading in headings}:
                broken.append(target)
    return broken


def test_every_link_of_the_readme_and_docs_leads_somewhere() -> None:
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    broken = {page.name: broken_links(page) for page in pages}
    assert not {page: links for page, links in broken.items() if links}


def test_the_link_checker_sees_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Top\n\n## The handoff's life\n")
    page = tmp_path / "b.md"
    page.write_text(
        "[ok](a.md#the-handoffs-life) [file](gone.md) [heading](a.md#nowhere) [web](https://x.y)"
    )
    assert broken_links(page) == ["gone.md", "a.md#nowhere"]
