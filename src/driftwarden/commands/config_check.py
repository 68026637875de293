"""`driftwarden config check`: validate the file and print the effective config, secrets redacted."""

from __future__ import annotations

import argparse
import json

from driftwarden.config import load_settings, redacted_dict


def config_check_command(args: argparse.Namespace) -> int:
    """Print the effective config (TOML-like table or JSON); ConfigError propagates as exit 2."""
    settings = load_settings(args.config)
    data = redacted_dict(settings)
    if args.format == "json":
        print(json.dumps(data, indent=2, sort_keys=False))
    else:
        print(render_toml(data))
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
