"""``status``: names from uploaders (files, columns) reach the terminal escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path

from driftwarden.commands.status import collect_status, render_text
from driftwarden.config import load_settings
from driftwarden.daemon.ledger import CheckRecord, Ledger
from driftwarden.daemon.state import state_paths

FILE = "batch\n2026-01-01T00:00:00Z INFO driftwarden.daemon: all clear\x1b[2J.csv"
COLUMN = "income\x1b]0;pwned\x07\u202e"
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


def test_file_and_column_names_are_escaped_in_the_table_and_exact_in_json(
    tmp_path: Path,
) -> None:
    config = tmp_path / "dw.toml"
    config.write_text(f'[state]\ndirectory = "{tmp_path / "state"}"\n', encoding="utf-8")
    settings = load_settings(config, env={})
    ledger_path = state_paths(settings)["ledger"]
    ledger_path.parent.mkdir(parents=True)
    ledger = Ledger.open(ledger_path)
    try:
        ledger.record_check(
            CheckRecord(
                kind="drift",
                scope="file",
                model=settings.model.name,
                outcome="drift",
                summary={"driftwarden.file": FILE, "drifted_features": [COLUMN]},
            )
        )
    finally:
        ledger.close()

    status = collect_status(settings)
    text = render_text(status)
    assert not RAW_CONTROL.search(text), text
    (row,) = [line for line in text.split("\n") if "drift (" in line]
    assert "batch\\n2026-01-01T00:00:00Z INFO driftwarden.daemon: all clear\\x1b[2J.csv" in row
    assert "drift (income\\x1b]0;pwned\\x07\\u202e)" in row
    # JSON escapes by construction and gives the names back exactly.
    document = json.dumps(status)
    assert not RAW_CONTROL.search(document)
    assert json.loads(document)["last_checks"][0]["file"] == FILE
