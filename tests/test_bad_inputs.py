"""Every bad input ends in one line that names the key or the file, and leaves nothing behind.

A corpus of bad command-line values, profile edits and damaged files, each run through the CLI's entry
point: the exit status is not 0, stderr holds no traceback and at most two lines, the message names what is
wrong, and the run directory holds nothing new. Damaged files the suite can repair (a prepared cache, a
checkpoint) are repaired and the command succeeds. A checkpoint carrying code is refused everywhere.
"""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import torch
import yaml

from gonbench.cli import main

REPO = Path(__file__).resolve().parents[1]
BASE = ["--experiment", "first", "--method", "gon", "--dataset", "digits", "--seed", "0", "--no-progress"]


@pytest.fixture
def profile(tmp_path) -> Path:
    """A tiny profile with its results in tmp_path (digits: 1,438 training images)."""
    cfg = yaml.safe_load((REPO / "tests" / "profiles" / "two_experiments.yaml").read_text())
    cfg.update(results=str(tmp_path / "results"), reports=str(tmp_path / "reports"))
    cfg["defaults"] = {"epochs": 1, "train_size": 256, "val_size": 64}
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")} if root.exists() else {}


def run_cli(capsys, argv: list[str]) -> tuple[int, list[str]]:
    rc = main(argv)
    err = capsys.readouterr().err
    return rc, [line for line in err.splitlines() if line.strip()]


def assert_one_line(rc: int, lines: list[str], names: str) -> None:
    text = "\n".join(lines)
    assert rc != 0, text
    assert "Traceback" not in text and 1 <= len(lines) <= 2, text
    assert names in text, text


TRAIN_VALUES = [  # (--set value, what the message must name)
    ("epochs=-1", "epochs=-1 is out of range"), ("epochs=0", "epochs=0 is out of range"),
    ("epochs=ten", "epochs='ten' has the wrong type"), ("batch_size=0", "batch_size=0 is out of range"),
    ("batch_size=600", "batch_size=600 is larger than train_size=256"),
    ("batch_size=10**9", "batch_size='10**9' has the wrong type"),
    ("batch_size=1000000000", "batch_size=1000000000 is larger than"),
    ("train_size=0", "train_size=0 is out of range"), ("train_size=32", "batch_size=64 is larger than train_size=32"),
    ("val_size=0", "val_size=0 is out of range"), ("val_every=0", "val_every=0 is out of range"),
    ("nz=0", "nz=0 is out of range"), ("nz=-5", "nz=-5 is out of range"),
    ("image_size=0", "image_size=0 is out of range"), ("image_size=31", "the decoder makes 32x32 images"),
    ("lr=-1", "lr=-1.0 is out of range"), ("lr=0", "lr=0.0 is out of range"), ("lr=nan", "lr='nan' has the wrong type"),
    ("lr=float('inf')", "lr="), ("lr=1e999", "lr=inf is out of range"), ("steps=0", "steps=0 is out of range"),
    ("step_size=-0.1", "step_size=-0.1 is out of range"), ("z0_std=-1", "z0_std=-1.0 is out of range"),
    ("bn_protocol=test", "bn_protocol='test' is not allowed; valid choices: train, eval"),
    ("activation=swish", "unknown activation 'swish'; valid choices"), ("threads=0", "threads=0 is out of range"),
    ("epoch=3", "unknown key 'epoch'"), ("epochs", "override 'epochs' is not of the form key=value"),
    ("snapshot_seconds=5", "snapshot_seconds=5 has the wrong type; expected a list"),
]


@pytest.mark.parametrize("value,names", TRAIN_VALUES, ids=[v for v, _ in TRAIN_VALUES])
def test_a_bad_spec_value_is_one_line_and_writes_nothing(tmp_path, capsys, profile, value, names):
    out = tmp_path / "run"
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), *BASE, "--out", str(out), "--set", value])
    assert_one_line(rc, lines, names)
    assert not out.exists()


CLI_ARGS = [  # (extra arguments, what the message must name)
    (["--threads", "-1"], "--threads=-1 is out of range"), (["--threads", "0"], "--threads=0 is out of range"),
    (["--device", "foo"], "unknown device 'foo'"), (["--device", "cuda:abc"], "unknown device 'cuda:abc'"),
    (["--method", "nope"], "unknown method 'nope'; valid choices"), (["--dataset", "nope"], "unknown dataset 'nope'"),
    (["--experiment", "nope"], "unknown experiment 'nope'; valid choices: first, second"),
]


PIXEL_VALUES = [  # (method, --set value, what the message must name): the autoregressive models' settings
    ("pixelcnn", "hidden=0", "hidden=0 is out of range"), ("pixelcnn", "layers=0", "layers=0 is out of range"),
    ("row_lstm", "output_hidden=-4", "output_hidden=-4 is out of range"),
    ("diagonal_bilstm", "hidden=16.5", "hidden=16.5 has the wrong type"),
    ("row_lstm", "kernel=5", "unknown key 'kernel' in --set for method row_lstm; valid keys: batch_size"),
]


@pytest.mark.parametrize("method,value,names", PIXEL_VALUES, ids=[f"{m}-{v}" for m, v, _ in PIXEL_VALUES])
def test_a_bad_pixel_model_value_is_one_line_and_writes_nothing(tmp_path, capsys, profile, method, value, names):
    cfg = yaml.safe_load(profile.read_text())
    cfg["experiments"]["first"]["methods"].append(method)
    profile.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run"
    args = ["train", "--config", str(profile), *BASE, "--out", str(out), "--set", value]
    args[args.index("gon")] = method
    rc, lines = run_cli(capsys, args)
    assert_one_line(rc, lines, names)
    assert not out.exists()


@pytest.mark.parametrize("extra,names", CLI_ARGS, ids=[" ".join(e) for e, _ in CLI_ARGS])
def test_a_bad_argument_is_one_line(tmp_path, capsys, profile, extra, names):
    out = tmp_path / "run"
    options = dict(zip(BASE[:-1:2], BASE[1:-1:2])) | dict(zip(extra[::2], extra[1::2]))
    args = ["train", "--config", str(profile), *[x for kv in options.items() for x in kv], "--no-progress",
            "--out", str(out)]
    rc, lines = run_cli(capsys, args)
    assert_one_line(rc, lines, names)
    assert not out.exists()


@pytest.mark.parametrize("method,names", [
    ("ae", "ae is in experiments first, second of profile dagtest; give --experiment"),
    ("vae", "no experiment of profile dagtest lists vae; give --experiment to take the settings of one of: first, "
            "second")])
def test_train_without_experiment_needs_one_when_the_method_is_in_several_or_none(tmp_path, capsys, profile, method,
                                                                                  names):
    out = tmp_path / "run"
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), "--method", method, "--dataset", "digits",
                                 "--seed", "0", "--out", str(out), "--no-progress"])
    assert_one_line(rc, lines, names)
    assert not out.exists()


def test_train_without_experiment_uses_the_only_one_that_lists_the_method_and_says_so(tmp_path, capsys, profile):
    out = tmp_path / "run"
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), "--method", "gon", "--dataset", "digits",
                                 "--seed", "0", "--out", str(out), "--no-progress"])
    assert rc == 0 and "--experiment not given: using first, the only experiment of profile dagtest that lists gon" \
        in "\n".join(lines)
    assert json.loads((out / "config.json").read_text())["experiment"] == "first"


def test_cuda_without_cuda_is_one_line(tmp_path, capsys, profile, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), *BASE, "--out", str(tmp_path / "r"), "--device", "cuda"])
    assert_one_line(rc, lines, "CUDA is not available")


def test_out_that_is_a_file_or_unwritable_is_one_line(tmp_path, capsys, profile):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), *BASE, "--out", str(blocker)])
    assert_one_line(rc, lines, str(blocker))
    assert blocker.read_text() == "x"
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), *BASE, "--out", "/proc/gonbench-run"])
    assert_one_line(rc, lines, "/proc/gonbench-run")


PROFILE_EDITS = [  # (profile text or edit, what the message must name)
    ("profile: x\nexperiments: {a: [\n", "YAML syntax error"), ("- just\n- a list\n", "a profile is a mapping"),
    ({"colour": "blue"}, "Additional properties are not allowed ('colour' was unexpected)"),
    ({"experiments": {"first": {"methods": ["gone"], "datasets": ["digits"]}}}, "unknown method 'gone'"),
    ({"experiments": {"first": {"methods": ["gon"], "datasets": ["digitz"]}}}, "unknown dataset 'digitz'"),
    ({"experiments": {"train": {"methods": ["gon"], "datasets": ["digits"]}}}, "taken by a workflow rule"),
    ({"datasets": {"digits": {"train_size": "all"}}}, "datasets.digits: train_size='all' has the wrong type"),
    ({"threads": 0}, "config error at threads"),
]


@pytest.mark.parametrize("edit,names", PROFILE_EDITS, ids=[str(e)[:40] for e, _ in PROFILE_EDITS])
def test_a_bad_profile_is_one_line_naming_the_file(tmp_path, capsys, profile, edit, names):
    if isinstance(edit, str):
        profile.write_text(edit)
    else:
        cfg = yaml.safe_load(profile.read_text())
        cfg.update(edit)
        profile.write_text(yaml.safe_dump(cfg))
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), *BASE,
                                 "--out", str(tmp_path / "run")])
    assert_one_line(rc, lines, names)
    assert str(profile) in "\n".join(lines) or "experiment" in "\n".join(lines)
    assert not (tmp_path / "run").exists()


def test_a_missing_profile_lists_the_available_ones(capsys):
    rc, lines = run_cli(capsys, ["check", "--profile", "nope"])
    assert_one_line(rc, lines, "no config file config/nope.yaml; available profiles: paper, quick")


@pytest.fixture
def trained(tmp_path, capsys, profile) -> Path:
    out = tmp_path / "run"
    assert main(["train", "--config", str(profile), *BASE, "--out", str(out), "--set", "epochs=2"]) == 0
    capsys.readouterr()
    return out


@pytest.mark.parametrize("name,damage,names", [
    ("config.json", lambda p: p.write_text('{"method": "gon", "epo'), "config.json is corrupt (invalid JSON"),
    ("config.json", lambda p: p.write_text("{}"), "config.json lacks method, dataset, seed, config_hash"),
    ("checkpoint.pt", lambda p: p.write_bytes(p.read_bytes()[:300]), "checkpoint.pt is a corrupt or truncated"),
    ("checkpoint.pt", lambda p: p.write_bytes(b""), "checkpoint.pt is a corrupt or truncated"),
    ("diverged.json", lambda p: p.write_text(json.dumps({"message": "loss became nan at epoch 2, step 3"})),
     "did not finish training: loss became nan"),
])
def test_evaluating_a_damaged_run_is_one_line(trained, capsys, name, damage, names):
    damage(trained / name)
    before = snapshot(trained)
    rc, lines = run_cli(capsys, ["evaluate", str(trained)])
    assert_one_line(rc, lines, names)
    assert snapshot(trained) == before


def test_evaluating_what_is_not_a_finished_run_is_one_line(tmp_path, capsys, trained):
    rc, lines = run_cli(capsys, ["evaluate", str(tmp_path)])
    assert_one_line(rc, lines, "is not a run directory (no config.json)")
    (trained / "checkpoint.pt").unlink()
    (trained / "checkpoint.prev.pt").unlink()
    rc, lines = run_cli(capsys, ["evaluate", str(trained)])
    assert_one_line(rc, lines, "has no checkpoint.pt")


def test_a_truncated_metrics_file_is_one_line_for_the_tables(tmp_path, capsys, profile):
    assert main(["train", "--config", str(profile), "--experiment", "first", "--method", "gon",
                 "--dataset", "digits", "--no-progress"]) == 0
    metrics = tmp_path / "results" / "dagtest" / "first" / "gon" / "digits" / "seed0" / "metrics.json"
    metrics.write_text(metrics.read_text()[:20])
    capsys.readouterr()
    rc, lines = run_cli(capsys, ["aggregate", "--config", str(profile), "--table", "table1"])
    assert_one_line(rc, lines, f"{metrics} is corrupt")


def test_a_truncated_checkpoint_is_moved_aside_and_training_resumes_from_the_one_before(tmp_path, capsys, trained, profile):
    ckpt = trained / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:300])
    (trained / "train.json").unlink()  # as if killed before the end
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), *BASE, "--out", str(trained), "--set", "epochs=2"])
    assert rc == 0 and any("checkpoint.pt.corrupt" in line for line in lines), lines
    assert torch.load(ckpt, weights_only=True)["epoch"] == 2


@pytest.mark.parametrize("failure", [
    OSError(errno.ENOSPC, "No space left on device"),
    RuntimeError("[enforce fail at inline_container.cc:778] . PytorchStreamWriter failed writing file data/3: "
                 "file write failed; unexpected pos 580416 vs 580308"),  # what torch.save's zip writer raises
], ids=["ENOSPC", "zip-writer"])
def test_a_full_disk_is_reported_as_such_and_keeps_the_last_checkpoint(tmp_path, capsys, profile, monkeypatch, failure):
    """The second epoch's checkpoint write runs out of space half-way: one line says so, the first epoch's
    checkpoint is intact, and no temporary file is left."""
    real_save, writes = torch.save, []

    def save(obj, f, *args, **kwargs):
        if ".checkpoint.pt." in str(f):
            writes.append(f)
            if len(writes) == 2:
                Path(f).write_bytes(b"half a checkpoint")
                raise failure
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)
    out = tmp_path / "run"
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), *BASE, "--out", str(out), "--set", "epochs=2"])
    assert_one_line(rc, lines, f"disk full while writing {out / 'checkpoint.pt'}")
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] == 1
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))


def test_a_corrupt_prepared_cache_is_detected_by_its_checksum_and_rebuilt(tmp_path, capsys, profile):
    from gonbench.data import load_prepared

    cache = tmp_path / "cache.pt"
    good = load_prepared("digits", Path("unused"), 32, cache)
    cache.write_bytes(cache.read_bytes()[:1000])
    again = load_prepared("digits", Path("unused"), 32, cache)
    err = capsys.readouterr().err
    assert "does not match its checksum; rebuilding it" in err and str(cache) in err
    assert torch.equal(again.train, good.train)


def test_a_second_trainer_of_the_same_run_is_refused_with_the_holders_pid(tmp_path, capsys, profile):
    import fcntl

    out = tmp_path / "run"
    out.mkdir()
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.pwrite(fd, b"4242", 0)
    try:
        rc, lines = run_cli(capsys, ["train", "--config", str(profile), *BASE, "--out", str(out)])
    finally:
        os.close(fd)
    assert_one_line(rc, lines, "being trained by another process (PID 4242)")
    assert not (out / "config.json").exists()


def test_stale_temporary_files_are_removed_at_the_next_start(tmp_path, capsys, profile):
    out = tmp_path / "run"
    out.mkdir()
    stale = [out / ".checkpoint.pt.abc123.tmp", out / ".reconstructions.png.xyz.tmp"]
    for p in stale:
        p.write_bytes(b"half")
    assert main(["train", "--config", str(profile), *BASE, "--out", str(out)]) == 0
    assert not any(p.exists() for p in stale) and "removed 2 temporary file(s)" in capsys.readouterr().err


class Payload:
    """Unpickling this creates a file: what a tampered checkpoint could do if it were loaded unsafely."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_checkpoint_carrying_code_is_refused_by_load_run_evaluate_and_resume(trained, tmp_path, capsys, profile):
    from gonbench import load_run
    from gonbench.errors import CorruptFileError

    marker = tmp_path / "pwned"
    state = torch.load(trained / "checkpoint.pt", weights_only=True)
    state["model"]["payload"] = Payload(marker)
    torch.save(state, trained / "checkpoint.pt")  # loaded unsafely, this would touch the marker file
    with pytest.raises(CorruptFileError, match="could run code"):
        load_run(trained).model
    rc, lines = run_cli(capsys, ["evaluate", str(trained)])
    assert_one_line(rc, lines, "could run code")
    (trained / "train.json").unlink()
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), *BASE, "--out", str(trained), "--set", "epochs=2"])
    assert_one_line(rc, lines, "could run code")
    assert not marker.exists()


def test_an_unexpected_error_is_one_line_with_the_traceback_in_a_file(capsys, monkeypatch):
    from gonbench import cli

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "cmd_list", broken)  # the parser binds the command when main() builds it
    rc, lines = run_cli(capsys, ["list"])
    assert rc == 3 and len(lines) == 1 and "ZeroDivisionError" in lines[0] and "traceback in" in lines[0]
    log = Path(lines[0].rsplit("traceback in ", 1)[1].rstrip(")"))
    assert "Traceback" in log.read_text()


def test_a_diverged_run_names_the_step_and_that_no_checkpoint_exists(tmp_path, capsys, profile):
    out = tmp_path / "run"
    rc, lines = run_cli(capsys, ["train", "--config", str(profile), *BASE, "--out", str(out), "--set", "lr=1e30"])
    assert rc == 1 and len(lines) == 1 and "Traceback" not in lines[0]
    assert "at epoch 1, step" in lines[0] and "no checkpoint was written" in lines[0]
