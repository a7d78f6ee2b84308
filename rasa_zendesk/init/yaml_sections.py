"""Adding entries to a YAML file as text, so that every line the author wrote stays as it was.

A round-trip dump (ruamel.yaml) re-indents a file whose sections use different styles (Rasa's
own `rasa init` domain does) and moves blank lines and comments. So the file is parsed only to
find where its sections are (ruamel.yaml's line numbers), and the new entries are inserted as
lines there, indented like the section's own entries. The result is parsed again and checked:
the author's lines all still there, in order, and the new entries readable (`insert_entries`).

Byte for byte: a line ends only where the YAML reader counts one (LF, CRLF, a lone CR; never at
U+2028 or NEL inside a string, as `str.splitlines` would), every line keeps its own ending
(`split_lines`), and the added lines end as the file's first line does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

#: How the entries of a source text are indented (the plugin's files, Rasa's default config).
SOURCE_INDENT = "  "
_ITEM = re.compile(r"^(\s*)-\s")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+\Z")
_LINE_END = re.compile(r"\r\n|\n")


class Unparseable(ValueError):
    """A file that is not YAML (or not a mapping at its top): nothing is changed."""


class CannotInsert(ValueError):
    """A section this module does not edit as text (flow style, an alias): the author adds it."""


@dataclass(frozen=True)
class Entry:
    """One entry of a section: its name and its lines, indented as in its source."""

    name: str
    lines: List[str]


def load(text: str, where: str) -> Optional[CommentedMap]:
    """The parsed file (None for an empty one); `Unparseable` names the file and the line."""
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise Unparseable(f"{where}: not valid YAML{at}: {problem}") from None
    if data is not None and not isinstance(data, CommentedMap):
        raise Unparseable(f"{where}: expected a mapping of keys at the top")
    return data


def names(value: Any) -> List[str]:
    """The names of a section's entries: a mapping's keys, or a list's items (an item that is
    a mapping is named by its `name` or `intent`, else by its only key)."""
    if isinstance(value, dict):
        return [str(key) for key in value]
    if isinstance(value, list):
        return [_item_name(item) for item in value]
    return []


def split_lines(text: str) -> List[str]:
    """The lines of `text`, each with its own ending, numbered as the YAML reader numbers them
    (joined, they are `text` again)."""
    return _LINE.findall(text)


def entries(text: str, section: str) -> List[Entry]:
    """The entries of `section` in a source text, each with the comment lines above it."""
    lines = [_bare(line) for line in split_lines(text)]
    root = load(text, section) or CommentedMap()
    value = root.get(section)
    if isinstance(value, CommentedMap):
        starts = [value.lc.key(key)[0] for key in value]
    elif isinstance(value, CommentedSeq):
        starts = [value.lc.item(index)[0] for index in range(len(value))]
    else:
        return []
    key_line = root.lc.key(section)[0]
    starts = [_with_comments_above(lines, start, key_line) for start in starts]
    ends = starts[1:] + [_content_end(lines, key_line)]
    found = []
    for name, start, end in zip(names(value), starts, ends):
        block = lines[start:end]
        while block and not block[-1].strip():
            block.pop()
        found.append(Entry(name, block))
    return found


def insert_entries(
    text: str, section: str, new: List[Entry], where: str, above: Sequence[str] = ()
) -> str:
    """`text` with `new` added to `section` (created at the end if absent, under the comment
    lines `above`), as lines ending as the file's lines do; every other byte stays."""
    lines = split_lines(text)
    found = _LINE_END.search(text)
    end = found.group() if found else "\n"
    root = load(text, where) or CommentedMap()
    if section not in root:
        at = len(lines)
        separator = [""] if lines and lines[-1].strip() else []
        entries = [line for entry in new for line in entry.lines]
        added = [*separator, *above, f"{section}:", *entries]
    else:
        value = root[section]
        key_line = root.lc.key(section)[0]
        if value is None:  # after the comment lines right under the key (rasa init's note)
            at, indent = key_line + 1, SOURCE_INDENT
            while at < len(lines) and lines[at].strip().startswith("#"):
                at += 1
        elif isinstance(value, (CommentedMap, CommentedSeq)) and not value.fa.flow_style():
            at, indent = _content_end(lines, key_line), _indent_of(lines, value)
        else:
            raise CannotInsert(f"{where}: `{section}` is not a block list or mapping")
        added = [_reindent(line, indent) for entry in new for line in entry.lines]
    if at == len(lines) and lines and _bare(lines[-1]) == lines[-1]:
        lines[-1] += end  # a last line without an ending gets one: lines follow it now
    result = lines[:at] + [line + end for line in added] + lines[at:]
    updated = "".join(result)
    _check(text, updated, section, [entry.name for entry in new], where)
    return updated


def _check(old: str, new: str, section: str, added: List[str], where: str) -> None:
    """The author's lines all kept, with their endings, in order (the last may have got one);
    the section now names every added entry."""
    remaining = iter(split_lines(new))
    if not all(
        any(kept == line or _bare(kept) == line for kept in remaining) for line in split_lines(old)
    ):
        raise CannotInsert(f"{where}: adding to `{section}` would change lines you wrote")
    parsed = load(new, where) or CommentedMap()
    missing = [name for name in added if name not in names(parsed.get(section))]
    if missing:
        raise CannotInsert(f"{where}: could not add {', '.join(missing)} to `{section}`")


def _item_name(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("name", "intent"):
            if key in item:
                return str(item[key])
        return str(next(iter(item), ""))
    return str(item)


def _bare(line: str) -> str:
    """A line without its ending."""
    return line.rstrip("\r\n")


def _with_comments_above(lines: List[str], start: int, floor: int) -> int:
    while start - 1 > floor and lines[start - 1].strip().startswith("#"):
        if not lines[start - 1][:1].isspace():
            break  # a comment in the first column belongs to the top level
        start -= 1
    return start


def _content_end(lines: List[str], key_line: int) -> int:
    """The line after the last one of the section that starts on `key_line` (comments in
    the first column and blank lines after it belong to what follows)."""
    last = key_line
    for index in range(key_line + 1, len(lines)):
        line = lines[index]
        if not line.strip() or line.startswith("#"):
            continue
        if not (line[0].isspace() or _ITEM.match(line)):
            break
        last = index
    return last + 1


def _indent_of(lines: List[str], value: Any) -> str:
    """How the section's first entry is indented (for a list: up to its dash)."""
    line = value.lc.key(next(iter(value)))[0] if isinstance(value, dict) else value.lc.item(0)[0]
    text = lines[line]
    return text[: len(text) - len(text.lstrip())]


def _reindent(line: str, indent: str) -> str:
    if line.startswith(SOURCE_INDENT):
        return indent + line[len(SOURCE_INDENT) :]
    return line
