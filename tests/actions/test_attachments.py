"""The attachment shape the relay action accepts in a user message's metadata."""

from rasa_zendesk.actions.attachments import parse_attachments


def test_valid_entries_are_parsed() -> None:
    valid, problems = parse_attachments(
        {
            "attachments": [
                {"type": "image", "url": "https://x.example/a.png", "name": "n" * 300},
                {"type": "file", "url": "http://x.example/b.pdf", "extra": 1},
            ]
        }
    )
    assert problems == []
    assert [(a.type, str(a.url), a.name) for a in valid] == [
        ("image", "https://x.example/a.png", "n" * 300),
        ("file", "http://x.example/b.pdf", None),
    ]


def test_no_metadata_or_no_attachments() -> None:
    assert parse_attachments(None) == ([], [])
    assert parse_attachments({"other": 1}) == ([], [])


def test_each_malformed_entry_is_named() -> None:
    valid, problems = parse_attachments(
        {
            "attachments": [
                "https://x.example/a.png",
                {"type": "video", "url": "https://x.example/v.mp4"},
                {"type": "image", "url": "javascript:alert(1)"},
                {"type": "file"},
            ]
        }
    )
    assert valid == []
    assert problems == [
        "metadata.attachments[0] must be an object",
        "metadata.attachments[1] invalid: type",
        "metadata.attachments[2] invalid: url",
        "metadata.attachments[3] invalid: url",
    ]
    assert parse_attachments({"attachments": {"type": "image"}})[1] == [
        "metadata.attachments must be a list"
    ]
