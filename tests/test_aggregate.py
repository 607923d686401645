"""Table captions say how the numbers were obtained, and only what applies to the table's runs; the paper's
published values stand beside ours in a stated unit."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from gonbench.aggregate import build_table, render
from gonbench.outputs import TABLES


def runs_frame(experiment: str, method: str, values: list[float], **spec) -> pd.DataFrame:
    return pd.DataFrame([{"experiment": experiment, "method_label": method, "dataset": "mnist", "seed": s,
                          "epochs": 10, "batch_size": 64, "train_size": 1024, "val_size": None, "image_size": 32,
                          "bn_protocol": "train", "m.recon_sse": v, **spec} for s, v in enumerate(values)])


def test_table1_cell_is_mean_and_std_over_seeds_and_caption_names_the_protocol():
    # per-image sums 10.24, 20.48, 30.72 at 32x32 are 1, 2, 3 in the paper's apparent unit (x 100 / 1024)
    runs = runs_frame("table1", "gon", [10.24, 20.48, 30.72], nz=32.0)  # pandas stores mixed-column ints as floats
    cfg = {"profile": "quick", "experiments": {"table1": {"methods": ["gon"], "datasets": ["mnist"]}}}
    frame, caption = build_table(TABLES.get("table1"), runs, cfg, "table1")
    md, _ = render(frame, TABLES.get("table1"), caption, cfg)
    assert "| 2.00 ± 1.00 |" in md.splitlines()[2]
    assert "| 0.41 ± 0.01 |" in md.splitlines()[2]  # the paper's GON on MNIST beside ours
    assert frame.loc[0, "mean_raw"] == pytest.approx(20.48)  # the per-image sum stays in the CSV
    assert "epochs 10, latent size 32, batch 64, BatchNorm in train mode" in caption
    assert "seeds 0/1/2" in caption and "mnist: train 1024, val all" in caption
    assert "× 100 / (H·W)" in caption and "inferred" in caption and "never calls eval()" in caption
    assert "The paper also reports Fashion-MNIST, SmallNORB, COIL-20, CIFAR-10" in caption


def test_caption_leaves_out_what_the_runs_do_not_have():
    runs = runs_frame("piecewise_segmentation", "seg_baseline", [0.0, 0.0], nz=None, **{"m.iou": 0.5})
    cfg = {"profile": "quick", "experiments": {"piecewise_segmentation": {"datasets": ["mnist"]}}}
    _, caption = build_table(TABLES.get("piecewise_seg_table"), runs, cfg, "piecewise_segmentation")
    assert "latent size" not in caption and "BatchNorm" not in caption and "Likelihood" not in caption


def test_aggregating_one_table_keeps_the_catalogue_rows_of_runs_built_elsewhere(tmp_path):
    from gonbench.aggregate import update_catalogue
    from gonbench.config import expand_runs
    from gonbench.paths import Layout

    cfg = {"profile": "quick", "seeds": [0], "results": str(tmp_path / "results"),
           "experiments": {"table1": {"methods": ["gon"], "datasets": ["mnist"]},
                           "table2": {"methods": ["vae"], "datasets": ["mnist"]}}}
    gon, vae = (str(Layout.of(cfg).run(k)) for k in expand_runs(cfg))
    path = tmp_path / "runs.csv"
    pd.DataFrame([{"run_dir": gon, "m.recon_sse": 9.0}, {"run_dir": vae, "m.elbo_bpd": 5.0},
                  {"run_dir": gon.replace("seed0", "seed7"), "m.recon_sse": 1.0}]).to_csv(path, index=False)
    on_disk = pd.DataFrame([{"run_dir": gon, "m.recon_sse": 4.0}])  # only table1's run is present now

    update_catalogue(path, on_disk, cfg)

    rows = pd.read_csv(path).set_index("run_dir")
    assert rows.loc[gon, "m.recon_sse"] == 4.0  # refreshed from disk
    assert rows.loc[vae, "m.elbo_bpd"] == 5.0  # kept: table2's run was built elsewhere
    assert len(rows) == 2  # seed7 is not in the grid any more


def test_a_transcribed_paper_value_is_printed_beside_ours(monkeypatch):
    from gonbench import aggregate

    reference = {"source": "GON paper, Table 1", "metric": "SSE", "values": {"gon": {"mnist": [7.5, 0.25]}}}
    monkeypatch.setattr(aggregate, "reference_values", lambda name: reference)
    runs = runs_frame("table1", "gon", [10.24, 20.48, 30.72], nz=32.0)
    cfg = {"profile": "quick", "experiments": {"table1": {"methods": ["gon", "ae"], "datasets": ["mnist"]}}}
    frame, caption = build_table(TABLES.get("table1"), runs, cfg, "table1")
    md, _ = render(frame, TABLES.get("table1"), caption, cfg)
    gon_row, ae_row = md.splitlines()[2], md.splitlines()[3]
    assert "| 2.00 ± 1.00 |" in gon_row and "| 7.50 ± 0.25 |" in gon_row
    assert ae_row.count("—") == 2  # neither runs nor a paper value for the AE


def test_eval_mode_companion_names_its_protocol_and_table2_prints_single_paper_values():
    runs = runs_frame("table1", "gon", [10.24, 20.48, 30.72], nz=32.0, **{"m.recon_sse_bn_eval": 51.2})
    cfg = {"profile": "quick", "experiments": {"table1": {"methods": ["gon"], "datasets": ["mnist"]}}}
    frame, caption = build_table(TABLES.get("table1_bn_eval"), runs, cfg, "table1")
    assert frame.loc[0, "mean"] == pytest.approx(5.0) and "BatchNorm in eval mode" in caption
    vae = runs_frame("table2", "vae", [1.2, 1.3], nz=48.0, **{"m.elbo_bpd": 1.25, "likelihood": "discretized_logistic"})
    cfg = {"profile": "quick", "experiments": {"table2": {"methods": ["vae"], "datasets": ["mnist"]}}}
    frame, caption = build_table(TABLES.get("table2"), vae, cfg, "table2")
    md, _ = render(frame, TABLES.get("table2"), caption, cfg)
    assert [c.strip() for c in md.splitlines()[2].split("|")][-2] == "1.150"  # the paper gives no std for Table 2


SHARED_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "gon-paper-tables.md"


@pytest.mark.parametrize("table,row,method,dataset,column", [
    ("table1", "GON (ours)", "gon", "mnist", 1), ("table1", "GLO", "glo", "coil20", 4),
    ("table2", "VAE", "vae", "celeba", 6)])
def test_transcribed_paper_cells_match_the_shared_reference(table, row, method, dataset, column):
    from gonbench.aggregate import reference_values

    text = SHARED_REFERENCE.read_text()
    section = text.split(f"## Table {table[-1]}")[1]
    line = next(ln for ln in section.splitlines() if ln.startswith(f"| {row} |"))
    cell = line.strip("|").split("|")[column].strip()
    published = [float(v) for v in re.findall(r"\d+\.\d+", cell)]
    assert reference_values(table)["values"][method][dataset] == published
