"""Rules on where files come from and go, checked on resolved (absolute) paths.

The daemon skips everything inside a processed or quarantine directory, so a watch path
equal to (or inside) one of them is never processed, silently; a watch path of ``/`` would
scan and move files across the whole file system. These are refused at load, so that
``config check``, ``run`` and a SIGHUP reload all refuse the same files.
"""

from __future__ import annotations

from pathlib import Path

from driftwarden.config.model import WatchConfig

ROOT = Path("/")


def drop_layout_problems(watch: WatchConfig) -> list[str]:
    """One ``key: problem (got VALUE)`` line per broken layout; empty when all is well.

    Expects the loader's absolute paths (relative ones are compared as written).
    """
    problems: list[str] = []
    for index, root in enumerate(watch.paths):
        if root == ROOT:
            problems.append(
                f"watch.paths[{index}]: the file system root cannot be a drop directory "
                "(files would be scanned and moved across the whole system); name a "
                f"directory of its own (got {str(root)!r})"
            )
    for key in ("processed_dir", "quarantine_dir"):
        target: Path | None = getattr(watch, key)
        if target == ROOT:
            problems.append(
                f"watch.{key}: cannot be the file system root; name a directory of its own "
                f"(got {str(target)!r})"
            )
    for key, owner, target in _destinations(watch):
        if target == ROOT:
            continue
        for index, root in enumerate(watch.paths):
            if root != target and target not in root.parents:
                continue
            relation = "is" if root == target else "contains"
            if getattr(watch, key) is None:  # the default <watched path>/processed
                problems.append(
                    f"watch.paths[{index}]: {str(root)!r} "
                    + ("is" if root == target else f"lies in {str(target)!r},")
                    + " where the "
                    f"watched directory {str(owner)!r} puts its {key.removesuffix('_dir')} "
                    "files, so its own files would never be processed; watch a directory "
                    f"outside it (got {str(root)!r})"
                )
                continue
            problems.append(
                f"watch.{key}: {str(target)!r} {relation} the watched directory "
                f"{str(root)!r}, whose files would then never be processed; use a "
                f"directory of its own, e.g. {str(root / key.removesuffix('_dir'))!r} "
                f"(got {str(target)!r})"
            )
    return list(dict.fromkeys(problems))


def _destinations(watch: WatchConfig) -> list[tuple[str, Path, Path]]:
    """(key, watched directory, destination) for every processed and quarantine directory
    the daemon will use (as ``daemon.files.drop_dirs`` builds them)."""
    out: list[tuple[str, Path, Path]] = []
    for root in watch.paths:
        for key, default in (("processed_dir", "processed"), ("quarantine_dir", "quarantine")):
            out.append((key, root, getattr(watch, key) or root / default))
    return out
