"""Every registered method builds, takes a training step on a tiny batch and gets finite gradients (a method
that only measures its initialisation, ``trains = False``, takes none)."""
from __future__ import annotations

import pytest
import torch

from gonbench.methods import METHODS, DataInfo, build_method, count_parameters, list_methods


@pytest.mark.parametrize("name", [n for n in list_methods() if METHODS.get(n).trains])
def test_method_trains_one_step(name):
    torch.manual_seed(0)
    size = METHODS.get(name).image_size or 32  # PPGN's networks are fixed to 28x28
    channels = METHODS.get(name).channels or 1  # the super-resolution methods read (LR, LR cubic, HR) triples
    model = build_method(name, DataInfo(channels=channels, image_size=size, classes=10, train_size=16))
    batch = {"x": torch.rand(8, channels, size, size), "y": torch.zeros(8, dtype=torch.long), "index": torch.arange(8)}
    optimizers = model.configure_optimizers()
    before = [p.detach().clone() for p in model.parameters()]
    logs = model.train_step(batch, optimizers)
    assert torch.isfinite(torch.as_tensor(logs["loss"]))
    changed = [not torch.equal(b, p) for b, p in zip(before, model.parameters())]
    assert any(changed) or count_parameters(model) == 0, f"{name}: no parameter moved after one optimiser step"
    if model.can_reconstruct:
        model.eval()
        assert model.reconstruct(batch["x"]).shape == batch["x"].shape


def test_gon_decoder_has_the_papers_parameter_count():
    model = build_method("gon", DataInfo(channels=1, image_size=32, classes=10, train_size=1))
    assert count_parameters(model) == 74_321


def test_unknown_config_key_names_the_valid_ones():
    from gonbench.errors import ConfigError

    with pytest.raises(ConfigError, match="valid keys: .*nz"):
        build_method("gon", DataInfo(1, 32, 10, 1), nzz=3)


def test_gonbench_list_shows_every_method_with_its_size_and_summary(capsys):
    from gonbench.cli import main
    main(["list"])
    lines = capsys.readouterr().out.splitlines()
    for name in list_methods():
        line = next((line for line in lines if line.split()[:1] == [name]), None)
        assert line is not None, f"`gonbench list` does not show {name}"
        assert len(line.split()) >= 3, f"`gonbench list` gives {name} no summary (its class docstring)"
