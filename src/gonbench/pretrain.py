"""Networks trained once per profile and reused, frozen, by many runs (``gonbench pretrain``).

PPGN's encoder E is pretrained as a classifier and then frozen inside every PPGN variant; independently
trained classifiers of another architecture (one per dataset, the "judges") score samples; GMMN+AE matches
the codes of an autoencoder pretrained per dataset (``<dataset>_autoencoder``, at the runs' 32x32); DeePSiM's
feature loss compares the features of a classifier pretrained per dataset (``<dataset>_comparator``); the
Net2Net studies grow a teacher classifier (``net2net_teacher``) and a GON decoder (``mnist_gon_teacher``). Each
network has an ``Objective``: the loss it is trained with and the held-out scores written beside it
(``test_accuracy`` for a classifier). Each is written as ``<name>.pt`` (state dict + settings) with
``<name>.json`` (scores, training steps and time) beside it, under results/<profile>/pretrained/ (gonbench.paths). A run names the network in a config field
(the run-level ``judge`` of TrainConfig, or one its method lists in ``network_fields``); the run layer loads
it and the Snakefile makes its file an input of the run. Settings default to the source's values; a
profile's ``pretrained.<name>`` overrides them, with reasons.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import metrics as M
from .batches import epoch_batches, to_unit
from .data import DATASETS, subset
from .errors import ConfigError
from .io import load_checkpoint, read_json, torch_save, write_json
from .losses import squared_error
from .methods.gon import gradient_origin_latent
from .nets.classifier import DigitClassifier
from .nets.conv import ConvDecoder
from .nets.dense import DenseAutoencoder
from .nets.ppgn import Encoder, normalise
from .paths import Layout, summary_path
from .registry import Registry
from .runtime import environment
from .seeding import seed_everything
from .typecheck import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, check_type, type_hints


@dataclass
class PretrainConfig:
    dataset: str = "mnist"
    image_size: PositiveInt = 28
    epochs: PositiveInt = 5
    batch_size: PositiveInt = 64
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: PositiveFloat = 0.01
    momentum: NonNegativeFloat = 0.5  # SGD only
    train_size: PositiveInt | None = None  # None = the whole training split
    test_size: PositiveInt | None = None  # None = the whole test split (the reported accuracy)
    seed: NonNegativeInt = 1


@dataclass(frozen=True)
class Objective:
    """How a pretrained network learns and what is reported of it: ``loss(net, x, y)`` on a training batch of
    [0, 1] images and labels, ``scores(net, x, y)`` on the held-out split (keys ``test_*``)."""

    loss: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
    scores: Callable[[nn.Module, torch.Tensor, torch.Tensor], dict[str, float]]


def classifier(logits: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> Objective:
    """Cross-entropy on normalised pixels; scored by top-1 test accuracy. ``logits(net, x)`` reads the net's
    class logits (PPGN's E returns its code too)."""
    return Objective(loss=lambda net, x, y: F.cross_entropy(logits(net, normalise(x)), y),
                     scores=lambda net, x, y: {"test_accuracy": accuracy(net, logits, x, y)})


@dataclass(frozen=True)
class PretrainedNet:
    name: str
    build: Callable[[int, int], nn.Module]  # (channels, image size) of its dataset -> the untrained network
    objective: Objective
    defaults: PretrainConfig
    source: str


PRETRAINED: Registry[PretrainedNet] = Registry("pretrained network")


def register_pretrained(net: PretrainedNet) -> PretrainedNet:
    return PRETRAINED.register(net.name)(net)


JUDGE_SOURCE = ("ours: an independent judge of samples (another architecture, optimiser and seed than any "
                "network a method trains or steers by)")
register_pretrained(PretrainedNet(
    "ppgn_encoder", lambda channels, size: Encoder(), classifier(lambda net, x: net(x)[1]),
    PretrainConfig(epochs=5, batch_size=64, optimizer="sgd", lr=0.01, momentum=0.5, seed=1),
    "PPGN thesis code encoder_train.py: SGD lr .01 momentum .5, 5 epochs, batch 64, NLL"))
for _dataset, _size in (("mnist", 28), ("fashion_mnist", 28), ("cifar10", 32)):
    register_pretrained(PretrainedNet(
        f"{_dataset}_classifier", lambda channels, size: DigitClassifier(channels=channels, image_size=size),
        classifier(lambda net, x: net(x)),
        PretrainConfig(dataset=_dataset, image_size=_size, epochs=3, batch_size=64, optimizer="adam", lr=1e-3,
                       seed=2), JUDGE_SOURCE))

register_pretrained(PretrainedNet(
    "net2net_teacher", lambda channels, size: DigitClassifier(channels=channels, image_size=size, widths=(8, 16),
                                                             convs_per_block=1, feature_dim=32),
    classifier(lambda net, x: net(x)),
    PretrainConfig(dataset="mnist", image_size=28, epochs=3, batch_size=64, optimizer="adam", lr=1e-3, seed=4),
    "ours: the Net2Net study's small teacher (Chen et al. 2016 grow a trained Inception; here a DigitClassifier "
    "with one 3x3 conv per block, 8 and 16 channels, 32 features), Adam as the judges"))


def gon_teacher(channels: int, size: int) -> ConvDecoder:
    """The GON paper's decoder at half its width (ngf 8): the network the Net2Net GON study widens."""
    decoder = ConvDecoder(nz=32, ngf=8, nc=channels, depth=3)
    if decoder.image_size != size:
        raise ConfigError(f"the GON teacher makes {decoder.image_size}x{decoder.image_size} images, not {size}x{size}; "
                          f"valid: image_size: {decoder.image_size}")
    return decoder


def gon_objective() -> Objective:
    """A GON decoder trained as the gon method trains it: z = -grad of the squared error at the origin, kept in
    the graph, and the squared error of F(z) (losses.squared_error); scored by the held-out per-image squared
    error with z detached, as the runs validate."""

    def latent(net: nn.Module, x: torch.Tensor, detach: bool) -> torch.Tensor:
        with torch.enable_grad():
            z0 = torch.zeros(len(x), net.latent_dim, device=x.device, dtype=x.dtype)
            return gradient_origin_latent(net, x, z0, steps=1, step_size=1.0, detach=detach)

    def loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return squared_error(net(latent(net, x, detach=False)), x)

    def scores(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> dict[str, float]:
        sse = sum(float(M.recon_sse(net(latent(net, x[i:i + batch_size], detach=True)), x[i:i + batch_size]).sum())
                  for i in range(0, len(x), batch_size))
        return {"test_recon_sse": sse / max(len(x), 1)}

    return Objective(loss=loss, scores=scores)


register_pretrained(PretrainedNet(
    "mnist_gon_teacher", gon_teacher, gon_objective(),
    PretrainConfig(dataset="mnist", image_size=32, epochs=10, batch_size=64, optimizer="adam", lr=1e-3, seed=5),
    "ours: the Net2Net GON study's teacher, a GON decoder of 8 base filters (the paper's 16 halved) trained as the "
    "gon method trains (one gradient step from the origin, Adam lr 1e-3)"))


COMPARATOR_SOURCE = ("ours: DeePSiM's comparator, the network whose features its feature loss compares (the paper: "
                     "AlexNet or Exemplar-CNN, whose ImageNet/STL weights are not available offline); the judges' "
                     "layout at half their widths (16, 32 channels), at the runs' 32x32 and with its own seed, so the "
                     "judge that scores the reconstructions is not the network they were trained to match")
for _dataset in ("mnist", "fashion_mnist", "cifar10"):
    register_pretrained(PretrainedNet(
        f"{_dataset}_comparator",
        lambda channels, size: DigitClassifier(channels=channels, image_size=size, widths=(16, 32)),
        classifier(lambda net, x: net(x)),
        PretrainConfig(dataset=_dataset, image_size=32, epochs=3, batch_size=64, optimizer="adam", lr=1e-3, seed=4),
        COMPARATOR_SOURCE))


def autoencoder_objective() -> Objective:
    """GMMN+AE's autoencoder: binary cross-entropy of the reconstruction, summed over pixels and averaged over the
    batch (the paper's code); scored by the held-out per-image squared error (metrics.recon_sse) and the same
    cross-entropy. Pixels in [0, 1], not normalised: the decoder's sigmoid makes them."""

    def loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(net.logits(net.encode(x)), x.flatten(1), reduction="sum") / len(x)

    @torch.no_grad()
    def scores(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> dict[str, float]:
        sse, bce = 0.0, 0.0
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size]
            logits = net.logits(net.encode(xb))
            sse += float(M.recon_sse(torch.sigmoid(logits).view_as(xb), xb).sum())
            bce += float(F.binary_cross_entropy_with_logits(logits, xb.flatten(1), reduction="sum"))
        return {"test_recon_sse": sse / max(len(x), 1), "test_bce": bce / max(len(x), 1)}

    return Objective(loss=loss, scores=scores)


AUTOENCODER_SOURCE = ("GMMN paper code (yujiali/gmmn train.py, mnist_mmd_code_space): sigmoid layers 1024-32, encoder "
                      "dropout 0.2/0.5, binary cross-entropy, batch 100, 3,000 SGD steps (~5 epochs of MNIST) after "
                      "layer-wise pretraining; here trained end to end with Adam (lr 1e-3), no layer-wise pretraining")
for _dataset in ("mnist", "fashion_mnist", "cifar10"):
    register_pretrained(PretrainedNet(
        f"{_dataset}_autoencoder", lambda channels, size: DenseAutoencoder(channels=channels, image_size=size),
        autoencoder_objective(),
        PretrainConfig(dataset=_dataset, image_size=32, epochs=5, batch_size=100, optimizer="adam", lr=1e-3, seed=3),
        AUTOENCODER_SOURCE))


def pretrain_config(cfg: dict, name: str) -> PretrainConfig:
    """The network's defaults with the profile's ``pretrained.<name>`` settings, type-checked."""
    net = PRETRAINED.get(name)
    hints = type_hints(PretrainConfig)
    values = dataclasses.asdict(net.defaults)
    for key, value in cfg.get("pretrained", {}).get(name, {}).items():
        if key not in hints:
            raise ConfigError(f"unknown key {key!r} in pretrained.{name}; valid keys: {', '.join(sorted(hints))}")
        values[key] = check_type(key, value, hints[key])
    return PretrainConfig(**values)


def pretrained_path(cfg: dict, name: str) -> Path:
    PRETRAINED.get(name)
    return Layout.of(cfg).pretrained(name)


def _optimizer(pc: PretrainConfig, params) -> torch.optim.Optimizer:
    if pc.optimizer == "sgd":
        return torch.optim.SGD(params, lr=pc.lr, momentum=pc.momentum)
    return torch.optim.Adam(params, lr=pc.lr)


@torch.no_grad()
def accuracy(net: nn.Module, logits_fn, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> float:
    """Top-1 accuracy on [0, 1] images (normalised here), in fixed batches."""
    correct = 0
    for start in range(0, len(images), batch_size):
        x = normalise(images[start:start + batch_size])
        correct += int((logits_fn(net, x).argmax(1) == labels[start:start + batch_size]).sum())
    return correct / max(len(images), 1)


def build_network(name: str, pc: PretrainConfig) -> nn.Module:
    """The untrained network ``name`` for its dataset's channels at the configured resolution."""
    return PRETRAINED.get(name).build(DATASETS.get(pc.dataset).channels, pc.image_size)


def pretrain(name: str, pc: PretrainConfig, splits, out: Path, device: torch.device) -> dict:
    """Train ``name`` on its objective over the (subset of the) training split; write .pt and .json."""
    net_info = PRETRAINED.get(name)
    seed_everything(pc.seed)
    net = build_network(name, pc).to(device)
    opt = _optimizer(pc, net.parameters())
    train_x, train_y = (t.to(device) for t in subset(splits.train, splits.train_labels, pc.train_size))
    t0 = time.perf_counter()
    net.train()
    for epoch in range(pc.epochs):
        for batch in epoch_batches(train_x, train_y, pc.batch_size, seed=pc.seed, epoch=epoch, drop_last=False):
            loss = net_info.objective.loss(net, batch["x"], batch["y"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - t0
    steps = pc.epochs * -(-len(train_x) // pc.batch_size)
    net.eval()
    test_x, test_y = (t.to(device) for t in subset(splits.val, splits.val_labels, pc.test_size))
    with torch.no_grad():
        scores = net_info.objective.scores(net, to_unit(test_x), test_y)
    summary = {"network": name, **scores, "test_images": len(test_x), "train_images": len(train_x),
               "train_steps": steps, "train_seconds": seconds, "config": dataclasses.asdict(pc), "source": net_info.source,
               "environment": environment(device)}
    out = Path(out)
    torch_save(out, {"network": name, "config": dataclasses.asdict(pc),
                     "state_dict": {k: v.cpu() for k, v in net.state_dict().items()}})
    write_json(summary_path(out), summary)
    return summary


def load_pretrained(path: str | Path, name: str, device: torch.device | str = "cpu") -> nn.Module:
    """A pretrained network in eval mode with gradients off (frozen); the file must hold ``name``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"pretrained network file {path} not found; build it with "
                          f"`gonbench pretrain --network {name}` (or the Snakemake rule pretrain)")
    blob = load_checkpoint(path, device, what="pretrained network", remedy=f"delete it and rebuild it with "
                                                                           f"`gonbench pretrain --network {name}`")
    if blob.get("network") != name:
        raise ConfigError(f"{path} holds network {blob.get('network')!r}, expected {name!r}")
    pc = PretrainConfig(**blob["config"])
    with torch.random.fork_rng(devices=[]):  # its random initialisation is overwritten: leave the run's RNG be
        net = build_network(name, pc)
    net = net.to(device)
    net.load_state_dict(blob["state_dict"])
    return net.eval().requires_grad_(False)


def pretrained_summary(path: str | Path) -> dict:
    """The .json written beside a pretrained network (test accuracy etc.); empty when absent."""
    p = summary_path(path)
    return read_json(p) if p.is_file() else {}
