"""How the suite is handed to the xdist workers (`pytest -n 3 --dist loadgroup`).

Two things, both on the workers' collection (the controller schedules what they report):

- Every test marked ``xdist_group`` must carry its group in its id (``id@group``): that is
  how loadgroup keeps a group on one worker, so its session and module fixtures (a trained
  champion, a trained store, a PostgreSQL cluster) are built once. Under pytest 9, pytest-xdist
  3.8's workers add no group (they see ``--dist no``), and the groups were ignored without a
  word: every worker trained everything. The run is refused instead.
- Modules with a ``slow`` test are collected first. The groups start first anyway (loadgroup
  sorts them by size); after them the work goes out in collection order, so a minute-long
  test left at the end keeps one worker busy while the other idles. Modules stay whole, so
  a module fixture is not built twice because its tests were split apart.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest

_UNGROUPED = (
    "this pytest/pytest-xdist pair ignores xdist_group under --dist loadgroup (pytest {} with "
    "pytest-xdist {}); install the versions pyproject.toml pins: "
    ".venv/bin/pip install -e '.[dev,torch]'"
)


def pytest_configure(config: pytest.Config) -> None:
    """The known bad pair is refused on the controller, with a message (a worker's refusal,
    below, reaches the terminal only as an xdist internal error)."""
    if hasattr(config, "workerinput") or config.getoption("dist", "no") != "loadgroup":
        return
    xdist = version("pytest-xdist")
    if int(pytest.__version__.split(".")[0]) >= 9 and tuple(map(int, xdist.split(".")[:2])) <= (
        3,
        8,
    ):
        raise pytest.UsageError(_UNGROUPED.format(pytest.__version__, xdist))


def _groups(item: pytest.Item) -> set[str]:
    return {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(trylast=True)  # after xdist's own hook, which adds the group to the id
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # the controller, or a run without -n
        return
    workerinput: dict[str, Any] = config.workerinput
    controller_argv = " ".join(map(str, workerinput.get("mainargv") or ()))
    if "loadgroup" in controller_argv or config.getoption("dist") == "loadgroup":
        lost = [i.nodeid for i in items if _groups(i) and "@" not in i.nodeid.rsplit("]", 1)[-1]]
        if lost:
            pair = (pytest.__version__, version("pytest-xdist"))
            raise pytest.UsageError(f"{lost[0]}: " + _UNGROUPED.format(*pair))
    slow_modules = {_module(i) for i in items if i.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: _module(item) not in slow_modules)
