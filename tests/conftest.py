"""Shared fixtures. Real data comes from $GONBENCH_DATA (CI: ../shared/data beside the checkout)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
if "GONBENCH_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["GONBENCH_DATA"] = str(SHARED_DATA)

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = Path(os.environ.get("GONBENCH_DATA", ""))
    if not (root / "mnist").is_dir():
        pytest.fail(f"real datasets not found under GONBENCH_DATA={root!s}; set it to the folder holding mnist/")
    return root


@pytest.fixture(scope="session")
def digits_splits():
    from gonbench.data import prepare

    return prepare("digits", Path("unused"), 32)


def tiny_profile(tmp_path: Path, **experiment) -> dict:
    """A profile whose results and reports live under tmp_path."""
    exp = {"methods": ["gon", "ae"], "datasets": ["digits"], "outputs": ["table1"]}
    exp.update(experiment)
    return {"profile": "test", "results": str(tmp_path / "results"), "reports": str(tmp_path / "reports"),
            "seeds": [0], "defaults": {"epochs": 2, "train_size": 256, "val_size": 128},
            "experiments": {"table1": exp}}
