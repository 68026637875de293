"""Loading a scikit-learn model imports skops without torch, and skops trusts the same types."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tracking.conftest import Trained

pytestmark = [
    pytest.mark.xdist_group("models_trained"),  # the module-scoped trained store, built once
    pytest.mark.skipif(
        importlib.util.find_spec("torch") is None, reason="torch is what the walk would import"
    ),
]

TRUSTED = "from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES as names"
SHIM = "sklearn.externals.array_api_compat.torch"


def _fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a new interpreter; it prints one JSON object."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_skops_imported_this_way_lists_the_types_of_a_plain_import_without_torch() -> None:
    plain = _fresh(f"import json; {TRUSTED}; print(json.dumps({{'names': sorted(names)}}))")
    lean = _fresh(
        "import importlib, importlib.util, json, sys\n"
        "from driftwarden.tracking.skops_import import import_skops\n"
        f"import_skops(); {TRUSTED}\n"
        "torch_after = 'torch' in sys.modules\n"
        f"shim = {SHIM!r}\n"
        "later = None\n"
        "if importlib.util.find_spec(shim) is not None:  # this scikit-learn ships the shim\n"
        "    importlib.import_module(shim); later = 'torch' in sys.modules\n"
        "print(json.dumps({'names': sorted(names), 'torch': torch_after, 'later': later}))"
    )
    assert lean["torch"] is False
    assert lean["names"] == plain["names"] and len(lean["names"]) > 100
    assert lean["later"] in (True, None)  # the shim is refused only during the import


def test_a_model_loaded_from_the_registry_predicts_without_torch_in_the_process(
    trained: Trained, tmp_path: Path
) -> None:
    from driftwarden.tracking.registry import register_run

    trained.store.activate()
    version = register_run(trained.store.client, trained.run_ids[0], "skops-lean").version
    found = _fresh(
        "import json, sys; import pandas as pd\n"
        "from driftwarden.config import load_settings\n"
        "from driftwarden.tracking.client import configure_mlflow\n"
        "from driftwarden.tracking.models import load_model_uri, predict\n"
        "from tests.tracking.stores import EXAMPLE_CSV\n"
        f"client = configure_mlflow(load_settings({str(trained.store.config)!r}, env={{}}))\n"
        f"model = load_model_uri(client, 'models:/skops-lean/{version}')\n"
        "frame = pd.read_csv(EXAMPLE_CSV).head(5)\n"
        "print(json.dumps({'predictions': len(predict(model, frame)), "
        "'skops': 'skops.io' in sys.modules, 'torch': 'torch' in sys.modules}))"
    )
    assert found == {"predictions": 5, "skops": True, "torch": False}
