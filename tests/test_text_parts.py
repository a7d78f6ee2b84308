"""The one way a long text is cut into parts (`rasa_zendesk.text_parts`), used by an agent's
text to a platform (paragraph, line, sentence, word) and a user's text to SunCo (line, word):
what both rely on, with boundaries of each kind."""

from __future__ import annotations

import re

import pytest

from rasa_zendesk.text_parts import split

pytestmark = pytest.mark.timeout(30)

LINES_THEN_WORDS = (re.compile(r"\n+"), re.compile(r" +"))


def test_a_text_that_fits_is_one_part_as_written() -> None:
    assert split("  two  spaces\n", 20, LINES_THEN_WORDS) == ["  two  spaces\n"]
    assert split("", 5, LINES_THEN_WORDS) == [""]


def test_pieces_in_one_part_keep_what_was_between_them_and_a_cut_loses_only_its_boundary() -> None:
    text = "one\n\n\ntwo\nthree\n\n\n\nfour"
    assert split(text, 12, LINES_THEN_WORDS) == ["one\n\n\ntwo", "three", "four"]
    assert split("a  b   c", 4, LINES_THEN_WORDS) == ["a  b", "c"]


def test_the_largest_boundary_wins_and_a_long_piece_starts_its_own_part() -> None:
    """The short line is not topped up with the long line's first words: the long one is cut
    on words, from its own start."""
    assert split("short\nalpha beta gamma", 11, LINES_THEN_WORDS) == [
        "short",
        "alpha beta",
        "gamma",
    ]
    # The long piece's last part goes on with the next piece.
    assert split("alpha beta gamma\nok", 11, LINES_THEN_WORDS) == ["alpha beta", "gamma\nok"]


def test_without_boundaries_left_a_text_is_cut_every_limit_characters() -> None:
    assert split("abcdefgh", 3, ()) == ["abc", "def", "gh"]
    assert split("go " + "x" * 7, 3, LINES_THEN_WORDS) == ["go", "xxx", "xxx", "x"]


def test_a_text_that_is_all_boundary_gives_one_blank_part_the_caller_drops() -> None:
    assert split("      ", 2, LINES_THEN_WORDS) == [""]
    assert split("a\n      \nb", 2, LINES_THEN_WORDS) == ["a", "b"]  # inside, it is a cut


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split("x", 0, LINES_THEN_WORDS)
