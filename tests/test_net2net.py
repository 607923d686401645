"""Net2Net preserves the function: Net2WiderNet and Net2DeeperNet without noise give the teacher's outputs
within 1e-5 on real MNIST validation images, for the suite's classifier and for a briefly trained GON decoder
(ELU for widening, ReLU for deepening, BatchNorm in both modes where it holds), and a tanh or sigmoid net is
refused with one line."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from gonbench.batches import epoch_batches, to_unit
from gonbench.data import prepare
from gonbench.errors import ConfigError
from gonbench.methods import DataInfo, build_method
from gonbench.nets import DigitClassifier, deeper, deeper_classifier, wider, wider_classifier
from gonbench.nets.net2net import decoder_chain, run_decoder_chain
from gonbench.nets.ppgn import normalise

TOL = 1e-5


@pytest.fixture(scope="module")
def mnist(data_root):
    return prepare("mnist", data_root, 28)


@pytest.fixture(scope="module")
def mnist32(data_root):
    return prepare("mnist", data_root, 32)


def val_images(splits, n=256) -> torch.Tensor:
    return to_unit(splits.val[:n])


def trained_classifier(splits, **size) -> DigitClassifier:
    """A classifier after 30 Adam steps on real MNIST (so its weights are not those of an initialisation)."""
    torch.manual_seed(0)
    net = DigitClassifier(**size)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for step, batch in enumerate(epoch_batches(splits.train[:1920], splits.train_labels[:1920], 64, seed=0, epoch=0)):
        loss = nn.functional.cross_entropy(net(normalise(batch["x"])), batch["y"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


@pytest.mark.parametrize("teacher_size", [{}, {"widths": (8, 16), "convs_per_block": 1, "feature_dim": 32}],
                         ids=["judge", "teacher"])
def test_wider_and_deeper_classifiers_keep_the_outputs_on_real_images(mnist, teacher_size):
    teacher = trained_classifier(mnist, **teacher_size).double()  # logits of ~10 summed over 6,272 inputs: float32
    x = normalise(val_images(mnist)).double()                      # rounding alone reaches 1e-5 there
    size = {"widths": teacher.widths, "convs_per_block": teacher.convs_per_block, "feature_dim": teacher.feature_dim}
    with torch.no_grad():
        expected = teacher(x)
        wide = wider_classifier(teacher, DigitClassifier(**{**size, "widths": tuple(2 * w for w in teacher.widths),
                                                            "feature_dim": 3 * teacher.feature_dim}).double(),
                                generator=torch.Generator().manual_seed(1)).eval()
        assert (wide(x) - expected).abs().max() < TOL
        deep = deeper_classifier(teacher, DigitClassifier(**{**size, "convs_per_block": teacher.convs_per_block + 1,
                                                             "hidden_layers": 3}).double()).eval()
        assert (deep(x) - expected).abs().max() < TOL
        assert len(deep.state_dict()) > len(teacher.state_dict())


def test_noise_breaks_the_symmetry_and_changes_the_outputs_a_little(mnist):
    teacher = trained_classifier(mnist, widths=(8, 16), convs_per_block=1, feature_dim=32)
    x = normalise(val_images(mnist, 64))
    with torch.no_grad():
        wide = wider_classifier(teacher, DigitClassifier(widths=(16, 32), convs_per_block=1, feature_dim=64),
                                noise=0.01, generator=torch.Generator().manual_seed(1)).eval()
        diff = (wide(x) - teacher(x)).abs().max()
    assert TOL < diff < 0.5


def trained_gon(splits, activation: str):
    torch.manual_seed(0)
    model = build_method("gon", DataInfo(1, 32, 10, 1024), ngf=8, activation=activation)
    opts = model.configure_optimizers()
    for batch in epoch_batches(splits.train[:640], splits.train_labels[:640], 64, seed=0, epoch=0):
        model.train_step(batch, opts)
    return model


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_a_wider_trained_gon_decoder_keeps_its_reconstructions(mnist32, mode):
    model = trained_gon(mnist32, "elu")
    x = val_images(mnist32, 64)
    z = model.encode(x, detach=True)
    teacher = model.decoder.train(mode == "train")
    student = build_method("gon", DataInfo(1, 32, 10, 1024), ngf=16).decoder.train(mode == "train")
    wider(decoder_chain(teacher), decoder_chain(student), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert (student(z) - teacher(z)).abs().max() < TOL


def test_a_deeper_trained_relu_gon_decoder_keeps_its_reconstructions(mnist32):
    model = trained_gon(mnist32, "relu")
    x = val_images(mnist32, 64)
    z = model.encode(x, detach=True)
    decoder = model.decoder.eval()  # the pass-through BatchNorm is exact with running statistics
    chain = decoder_chain(decoder)
    chain = deeper(deeper(chain, 2), 8)  # after the stem's ReLU and after the first upsampling block's
    for module in chain:
        module.eval()
    with torch.no_grad():
        assert (run_decoder_chain(decoder, chain, z) - decoder(z)).abs().max() < TOL
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in chain) == len(decoder.convs) + 2


@pytest.mark.parametrize("activation", [nn.Tanh, nn.Sigmoid])
def test_deepening_after_a_tanh_or_sigmoid_is_refused_in_one_line(activation):
    chain = [nn.Linear(4, 8), activation(), nn.Linear(8, 2)]
    with pytest.raises(ConfigError) as err:
        deeper(chain, 1)
    assert f"a {activation.__name__} has no identity layer" in str(err.value) and "\n" not in str(err.value)


def test_bad_sizes_are_one_line():
    teacher = DigitClassifier(widths=(8, 16), convs_per_block=1, feature_dim=32)
    with pytest.raises(ConfigError, match="widens"):
        wider_classifier(teacher, DigitClassifier(widths=(4, 16), convs_per_block=1, feature_dim=32))
    with pytest.raises(ConfigError, match="keeps the depth"):
        wider_classifier(teacher, DigitClassifier(widths=(16, 32), convs_per_block=2, feature_dim=32))
    with pytest.raises(ConfigError, match="keeps the widths"):
        deeper_classifier(teacher, DigitClassifier(widths=(16, 32), convs_per_block=2, feature_dim=32))
