"""The typed config model and its loader."""

from __future__ import annotations

from driftwarden.config.load import load_settings, redacted_dict, resolve_config_path
from driftwarden.config.model import Settings

__all__ = ["Settings", "load_settings", "redacted_dict", "resolve_config_path"]
