"""Import ``skops.io`` without the array libraries scikit-learn's type walk drags in.

MLflow 3 saves scikit-learn models with skops, so loading one imports ``skops.io``. At
import, skops lists scikit-learn's estimator types with ``all_estimators``, which walks
every scikit-learn package with ``pkgutil.walk_packages``. The walk imports the array-API
shims under ``sklearn.externals.array_api_compat``, and the torch shim imports torch when
it is installed: about 3 s of CPU and 180 MiB that then stay in the process (measured with
torch 2.13 and scikit-learn 1.9: ``import skops.io`` 7.0 s and 382 MiB peak, 3.8 s and
204 MiB without the shims). None of the shims holds an estimator, so skops's list of
trusted types is the same.

``import_skops`` imports skops.io with those shims refused for the moment of the import;
afterwards they import as usual, and a process that uses torch still gets it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

SHIMS = "sklearn.externals.array_api_compat"
SKIPPED_SHIMS = ("torch", "cupy", "dask", "jax")


class _RefuseArrayShims:
    """A meta-path finder that refuses the heavy array-API shims (the walk skips them)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        parts = fullname.split(".")
        if fullname.startswith(SHIMS + ".") and len(parts) > 3 and parts[3] in SKIPPED_SHIMS:
            raise ImportError(f"{fullname} is skipped while skops lists scikit-learn's types")
        return None


def import_skops() -> None:
    """Import ``skops.io`` now, without torch; a no-op once imported or when not installed."""
    if "skops.io" in sys.modules:
        return
    finder = _RefuseArrayShims()
    sys.meta_path.insert(0, finder)
    try:
        importlib.import_module("skops.io")
    except ImportError:
        pass  # not installed: MLflow says what is missing if a model needs it
    finally:
        sys.meta_path.remove(finder)
