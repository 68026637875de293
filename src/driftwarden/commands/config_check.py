"""`driftwarden config check`: validate the file and print the effective config, secrets redacted.

It refuses (exit 2) everything ``run`` would refuse at start: the file's own rules (the
loader) and the environment it names (``config.runnable.check_runnable``). On stdout: the
effective config, as TOML-style text or one JSON document. On stderr: where things go (the
state directory, the MLflow store, each experiment's real artifact location).
"""

from __future__ import annotations

import argparse
import json
import sys

from driftwarden.commands.locations import describe
from driftwarden.config import load_settings, redacted_dict, resolve_config_path
from driftwarden.config.runnable import check_runnable


def config_check_command(args: argparse.Namespace) -> int:
    """Print the effective config (TOML-like table or JSON); ConfigError propagates as exit 2."""
    settings = load_settings(args.config)
    where = resolve_config_path(args.config)
    check_runnable(settings, where=str(where) if where else "<defaults>")
    data = redacted_dict(settings)
    if args.format == "json":
        print(json.dumps(data, indent=2, sort_keys=False))
    else:
        print(render_toml(data))
    print("\n".join(describe(settings)), file=sys.stderr)
    return 0


def render_toml(data: dict[str, object], prefix: str = "") -> str:
    """Render nested plain data as TOML-style text (for reading, not necessarily re-loading)."""
    scalars: list[str] = []
    tables: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            name = f"{prefix}.{key}" if prefix else key
            body = render_toml(value, name)
            tables.append(f"[{name}]\n{body}" if body.strip() else f"[{name}]")
        elif value is None:
            scalars.append(f"# {key} = (unset)")
        else:
            scalars.append(f"{key} = {json.dumps(value)}")
    return "\n".join(scalars + ([""] if scalars and tables else []) + tables).rstrip() + "\n"
