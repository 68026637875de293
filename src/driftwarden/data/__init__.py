"""Reading data files safely, and data versions (content hashes)."""

from __future__ import annotations

from driftwarden.data.read import SUPPORTED_SUFFIXES, read_frame
from driftwarden.data.version import data_version

__all__ = ["SUPPORTED_SUFFIXES", "data_version", "read_frame"]
