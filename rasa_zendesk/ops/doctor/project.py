"""A bot's project folder, read as Rasa reads it (its own loaders, `${VAR}` substituted)."""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import rasa.shared.utils.io
from rasa.shared.core.domain import Domain
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.training_data import TrainingData

CHANNEL_KEY = "rasa_zendesk.ZendeskInput"
PLUGIN_DOMAIN = Path(__file__).resolve().parents[2] / "domain" / "zendesk.yml"


@dataclass
class Project:
    """The files of one bot; a file that Rasa could not read is in `unreadable` with why."""

    root: Path
    unreadable: Dict[str, str] = field(default_factory=dict)
    #: Per file, the `${VAR}`s Rasa could not replace (the reason it is unreadable).
    unset_variables: Dict[str, List[str]] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.root / name

    def yaml(self, name: str) -> Optional[Dict[str, Any]]:
        """A YAML file as Rasa reads it (environment variables substituted); None if absent or
        unreadable (then `unreadable[name]` says why, naming no value)."""
        path = self.path(name)
        if not path.is_file():
            return None
        try:
            return rasa.shared.utils.io.read_config_file(path) or {}
        except Exception as error:  # Rasa raises several kinds; each stops the server
            unset = _unset_variables(path, error)
            self.unreadable[name] = (
                f"it uses {', '.join('${' + n + '}' for n in unset)}, not set in the "
                "environment (Rasa stops at start on a ${VAR} it cannot replace)"
                if unset
                else _first_line(error)
            )
            if unset:
                self.unset_variables[name] = unset
            return None

    def channel_credentials(self) -> Optional[Mapping[str, Any]]:
        """The channel's block in credentials.yml (None when the channel is not there)."""
        credentials = self.yaml("credentials.yml") or {}
        if CHANNEL_KEY not in credentials:
            return None
        return credentials.get(CHANNEL_KEY) or {}

    def domain_path(self) -> Optional[Path]:
        for name in ("domain.yml", "domain.yaml", "domain"):
            if self.path(name).exists():
                return self.path(name)
        return None

    def domain(self) -> Optional[Domain]:
        path = self.domain_path()
        if path is None:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return Domain.load(str(path))
        except Exception as error:
            self.unreadable[path.name] = _first_line(error)
            return None

    def nlu(self) -> Optional[TrainingData]:
        data = self.path("data")
        if not data.exists():
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                importer = TrainingDataImporter.load_from_dict(
                    domain_path=str(self.domain_path() or PLUGIN_DOMAIN),
                    training_data_paths=[str(data)],
                )
                return importer.get_nlu_data()
        except Exception as error:
            self.unreadable["data"] = _first_line(error)
            return None


def plugin_domain() -> Domain:
    """The domain entries the plugin needs (`rasa_zendesk/domain/zendesk.yml`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Domain.load(str(PLUGIN_DOMAIN))


_VARIABLE = re.compile(r"\$\{(\w+)\}")


def _unset_variables(path: Path, error: Exception) -> List[str]:
    """The `${VAR}`s of the file that are not set, when that is why Rasa refused it."""
    if "expand the environment variables" not in str(error):
        return []
    names = dict.fromkeys(_VARIABLE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return [name for name in names if name not in os.environ]


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
