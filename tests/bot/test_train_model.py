"""scripts/train_model.py: the model cache key, the cache hit, and a clear training failure."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts import train_model
from scripts.train_model import TrainingError, ensure_model, model_key

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example bot's files, with a cache of its own."""
    root = tmp_path / "bot"
    for name in ("config.yml", "domain.yml", "endpoints.yml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "data", root / "data")
    (root / train_model.SHIPPED_DOMAIN).parent.mkdir(parents=True)
    shutil.copy(REPO / train_model.SHIPPED_DOMAIN, root / train_model.SHIPPED_DOMAIN)
    monkeypatch.setenv("RASA_ZENDESK_CACHE", str(tmp_path / "cache"))
    return root


def test_the_key_covers_every_input(bot: Path) -> None:
    key = model_key(bot)
    assert model_key(bot) == key
    assert model_key(bot, rasa_version="0.0.1") != key
    for path in ("config.yml", "domain.yml", "data/nlu.yml", str(train_model.SHIPPED_DOMAIN)):
        original = (bot / path).read_text()
        (bot / path).write_text(original + "\n# changed\n")
        assert model_key(bot) != key, path
        (bot / path).write_text(original)
    (bot / "data" / "more.yml").write_text('version: "3.1"\n')
    assert model_key(bot) != key


def test_a_cached_model_is_reused_and_linked(bot: Path, tmp_path: Path) -> None:
    cached = tmp_path / "cache" / "models" / f"{model_key(bot)}.tar.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"a model")
    assert ensure_model(bot) == cached  # no training: it would have taken a minute
    link = bot / "models" / train_model.MODEL_LINK_NAME
    assert link.resolve() == cached.resolve()
    assert not (cached.parent / f"{model_key(bot)}.log").exists()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_failed_training_says_why(bot: Path) -> None:
    (bot / "domain.yml").write_text("intents: [greet\n")  # broken YAML
    with pytest.raises(TrainingError) as error:
        ensure_model(bot)
    message = str(error.value)
    assert "rasa train failed" in message
    assert "--- last lines ---" in message
    assert "domain.yml" in message
    assert not (bot / "models").exists()


def test_the_cache_is_where_the_other_scripts_keep_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RASA_ZENDESK_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert train_model.cache_dir() == tmp_path / "xdg" / "rasa-zendesk"
    monkeypatch.setenv("RASA_ZENDESK_CACHE", str(tmp_path / "own"))
    assert train_model.cache_dir() == tmp_path / "own"
    monkeypatch.delenv("RASA_ZENDESK_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert train_model.cache_dir() == Path.home() / ".cache" / "rasa-zendesk"
