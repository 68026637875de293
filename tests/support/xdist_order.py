"""How the suite is handed to the two xdist workers (`pytest -n 2 --dist loadgroup`).

Two things, both on the workers' collection (the controller schedules what they report):

- Every test marked ``xdist_group`` must carry its group in its id (``id@group``): that is
  how loadgroup keeps a group on one worker, so its session and module fixtures (a trained
  champion, a trained store, a PostgreSQL cluster) are built once. pytest 9 keeps the id
  where pytest-xdist 3.8 cannot add it, and the groups were then ignored without a word:
  every worker trained everything. The run is refused instead.
- Modules with a ``slow`` test are collected first. The groups start first anyway (loadgroup
  sorts them by size); after them the work goes out in collection order, so a minute-long
  test left at the end keeps one worker busy while the other idles. Modules stay whole, so
  a module fixture is not built twice because its tests were split apart.
"""

from __future__ import annotations

import pytest


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
    if config.getoption("dist") == "loadgroup":
        lost = [i.nodeid for i in items if _groups(i) and "@" not in i.nodeid.rsplit("]", 1)[-1]]
        if lost:
            raise pytest.UsageError(
                f"--dist loadgroup ignores the xdist_group of {len(lost)} tests (first: "
                f"{lost[0]}): this pytest/pytest-xdist pair cannot group tests; install the "
                "versions pyproject.toml pins (.venv/bin/pip install -e '.[dev,torch]')"
            )
    slow_modules = {_module(i) for i in items if i.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: _module(item) not in slow_modules)
