"""SunCo's 4096-character limit: cutting one text, and packing many blocks into few messages."""

from __future__ import annotations

import math

import pytest

from rasa_zendesk.sunco.text import MAX_TEXT_LENGTH, chunk_text, pack_blocks

pytestmark = pytest.mark.timeout(30)


def test_short_and_empty_texts() -> None:
    assert chunk_text("hello") == ["hello"]
    assert chunk_text("") == []
    assert chunk_text("  \n ") == []
    with pytest.raises(ValueError):
        chunk_text("x", 0)


def test_lines_are_kept_whole_when_they_fit() -> None:
    lines = [f"line {i:03d} " + "x" * 40 for i in range(300)]  # ~15 000 characters
    text = "\n".join(lines)
    chunks = chunk_text(text)
    assert len(chunks) == 4
    assert all(len(chunk) <= MAX_TEXT_LENGTH for chunk in chunks)
    assert "\n".join(chunks) == text  # cut only between lines


def test_a_long_line_is_cut_between_words() -> None:
    words = [f"w{i}" for i in range(3000)]
    text = " ".join(words)
    chunks = chunk_text(text, 1000)
    assert all(len(chunk) <= 1000 for chunk in chunks)
    assert " ".join(chunks).split() == words


def test_a_word_longer_than_the_limit_is_cut_where_it_must() -> None:
    text = "see https://example.com/" + "a" * 250 + " ok"
    chunks = chunk_text(text, 100)
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")


def blocks_of(sizes: list) -> list:
    return [f"[turn {i}] " + "x" * (size - 10 - len(str(i))) for i, size in enumerate(sizes)]


def test_blocks_are_packed_whole_into_few_messages() -> None:
    blocks = blocks_of([80] * 200)  # a long chat of short turns
    texts = pack_blocks(blocks)
    joined = "\n\n".join(blocks)
    assert len(texts) == math.ceil(len(joined) / MAX_TEXT_LENGTH)
    assert all(len(text) <= MAX_TEXT_LENGTH for text in texts)
    assert "\n\n".join(texts) == joined  # cut only between whole blocks
    assert all(text.startswith("[turn") for text in texts)


def without_spaces(texts: list) -> str:
    return "".join("".join(texts).split())


def test_a_block_too_long_for_one_message_is_cut_and_the_rest_stays_in_order() -> None:
    blocks = ["summary", "[turn 1] " + "word " * 2000, "[turn 2] short"]
    texts = pack_blocks(blocks)
    assert all(len(text) <= MAX_TEXT_LENGTH for text in texts)
    assert without_spaces(texts) == without_spaces(blocks)  # only whitespace lost at cuts


@pytest.mark.parametrize("size", [2100, 2900, 4000])
def test_blocks_that_pack_badly_are_cut_to_keep_the_bound(size: int) -> None:
    """Whole blocks of 2,100 characters would need one message each; the number of
    messages stays ceil(size / 4096) by cutting on line or word boundaries instead."""
    blocks = [("word " * (size // 5)).strip() for _ in range(12)]
    texts = pack_blocks(blocks)
    joined = "\n\n".join(blocks)
    assert len(texts) <= math.ceil(len(joined) / MAX_TEXT_LENGTH)
    assert all(len(text) <= MAX_TEXT_LENGTH for text in texts)
    assert without_spaces(texts) == without_spaces([joined])
    assert " ".join(texts).split() == joined.split()  # here every cut falls between words


def test_blank_blocks_are_dropped_and_nothing_gives_no_message() -> None:
    assert pack_blocks([]) == []
    assert pack_blocks(["", "  ", "\n"]) == []
    assert pack_blocks(["a", "", "b"]) == ["a\n\nb"]


def test_a_user_text_goes_as_written_and_a_cut_loses_only_the_line_break() -> None:
    """Not stripped like an agent's text to a platform (`platforms.split`): only the run of
    line breaks (or spaces) where a part ends is lost."""
    assert chunk_text("  indented\n", 20) == ["  indented\n"]
    assert chunk_text("  first line\n\n  second line", 14) == ["  first line", "  second line"]
