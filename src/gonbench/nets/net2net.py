"""Net2Net (Chen, Goodfellow & Shlens 2016): grow a trained network into a wider or deeper one that computes
the same function, so the larger net starts where the smaller one ended.

A network is handled as a *chain*: its modules in forward order (weight layers nn.Linear / nn.Conv2d /
nn.ConvTranspose2d, with BatchNorm, elementwise activations, pooling and a Flatten between them).

- ``wider(teacher, student)`` (Net2WiderNet, Sec. 3.1): every hidden weight layer of the student has at least
  as many units as the teacher's; unit j of the student copies teacher unit g(j), g the identity on the
  teacher's units and random replicas (uniform, with replacement) on the new ones. The incoming weights, bias
  and the BatchNorm after the layer (scale, shift, running statistics) are copied; the next layer's weights
  from each replicated unit are divided by its replica count, so the sum over replicas is the teacher's term.
  Convolutions replicate channels, and a Flatten from conv channels into a Linear replicates whole blocks of
  its inputs. Replicas see the same batch statistics, so BatchNorm in either mode keeps the function.
  ``noise`` > 0 adds N(0, (noise x the layer's weight std)^2) to the student's weights: without it replicas
  get equal gradients forever (the paper adds noise, or relies on dropout, to break the symmetry).
- ``deeper(chain, after)`` (Net2DeeperNet, Sec. 3.2): after the ReLU at position ``after``, insert a layer
  initialised to the identity (an identity matrix; a centred delta kernel for a convolution), a BatchNorm
  that passes through (scale sqrt(1 + eps), shift 0, running mean 0, variance 1: exact in evaluation mode) if
  the chain normalises, and a ReLU: relu(I h) = h for h = relu(.) >= 0. There is no such layer for units
  whose activation is not idempotent (tanh, sigmoid, ELU): they are refused.

``wider_classifier`` / ``deeper_classifier`` apply them to nets.classifier.DigitClassifier (copying into a
student built at the larger size); ``decoder_chain`` exposes nets.conv.ConvDecoder as a chain.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from ..errors import ConfigError
from .classifier import DigitClassifier
from .conv import ConvDecoder

WEIGHTED = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def _axes(layer: nn.Module) -> tuple[int, int]:
    """(output axis, input axis) of the layer's weight (a transposed convolution stores [in, out, k, k])."""
    return (1, 0) if isinstance(layer, nn.ConvTranspose2d) else (0, 1)


def _units(layer: nn.Module) -> int:
    return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels


def _check_plain(layer: nn.Module) -> None:
    if getattr(layer, "groups", 1) != 1:
        raise ConfigError(f"Net2Net handles ungrouped layers only, not {layer!r} (a seed-stacked network: unstack it)")


@torch.no_grad()
def wider(teacher: Sequence[nn.Module], student: Sequence[nn.Module], *, noise: float = 0.0,
          generator: torch.Generator | None = None) -> None:
    """Net2WiderNet: set the ``student`` chain (same module types in the same order, hidden weight layers at
    least as wide, the same output) from the ``teacher`` chain; see the module docstring."""
    if len(teacher) != len(student) or any(type(t) is not type(s) for t, s in zip(teacher, student)):
        raise ConfigError("Net2WiderNet needs a student with the teacher's layers in the same order")
    weighted = [i for i, m in enumerate(teacher) if isinstance(m, WEIGHTED)]
    previous: torch.Tensor | None = None  # g of the layer below: student input unit -> teacher unit
    for k, i in enumerate(weighted):
        t, s = teacher[i], student[i]
        _check_plain(t)
        _check_plain(s)
        n_t, n_s = _units(t), _units(s)
        if k == len(weighted) - 1 and n_s != n_t:
            raise ConfigError(f"Net2WiderNet keeps the output: the last layer has {n_t} units, the student {n_s}")
        if n_s < n_t:
            raise ConfigError(f"Net2WiderNet widens: layer {i} has {n_t} units, the student only {n_s}")
        g = torch.cat([torch.arange(n_t), torch.randint(0, n_t, (n_s - n_t,), generator=generator)])
        out_axis, in_axis = _axes(t)
        w = t.weight.detach().cpu().index_select(out_axis, g)
        if previous is not None:
            counts = torch.bincount(previous).to(w.dtype)
            block = t.weight.shape[in_axis] // int(counts.numel())  # > 1: a Flatten from conv channels below
            if previous.numel() * block != s.weight.shape[in_axis]:
                raise ConfigError(f"Net2WiderNet: layer {i} of the student reads {s.weight.shape[in_axis]} inputs, "
                                  f"expected {previous.numel() * block}")
            source = (previous[:, None] * block + torch.arange(block)).reshape(-1)
            scale = (1.0 / counts[previous]).repeat_interleave(block)
            shape = [1] * w.dim()
            shape[in_axis] = -1
            w = w.index_select(in_axis, source) * scale.view(shape)
        if noise > 0:
            w = w + noise * float(t.weight.std()) * torch.randn(w.shape, generator=generator)
        s.weight.copy_(w.to(s.weight))
        if t.bias is not None:
            s.bias.copy_(t.bias.detach().cpu()[g].to(s.bias))
        end = weighted[k + 1] if k + 1 < len(weighted) else len(teacher)
        for j in range(i + 1, end):
            if isinstance(teacher[j], NORMS):
                tn, sn = teacher[j], student[j]
                for name in ("weight", "bias", "running_mean", "running_var"):
                    getattr(sn, name).copy_(getattr(tn, name).detach().cpu()[g].to(getattr(sn, name)))
                sn.num_batches_tracked.copy_(tn.num_batches_tracked)
        previous = g


def identity_layer(like: nn.Module, units: int) -> nn.Module:
    """A layer of the type of ``like`` computing the identity on ``units`` units (3x3 kernels, stride 1)."""
    if isinstance(like, nn.Linear):
        layer = nn.Linear(units, units)
        nn.init.eye_(layer.weight)
    else:
        layer = (nn.Conv2d if isinstance(like, nn.Conv2d) else nn.ConvTranspose2d)(units, units, 3, 1, 1)
        with torch.no_grad():
            layer.weight.zero_()
            layer.weight[torch.arange(units), torch.arange(units), 1, 1] = 1.0  # centred delta, either layout
    nn.init.zeros_(layer.bias)
    return layer.to(like.weight)


def pass_through_norm(like: nn.Module) -> nn.Module:
    """A BatchNorm of ``like``'s type that is the identity in evaluation mode (running mean 0, variance 1)."""
    norm = type(like)(like.num_features, eps=like.eps)
    with torch.no_grad():
        norm.weight.fill_(float(torch.sqrt(torch.tensor(1.0 + like.eps))))
    return norm.to(like.weight)


def deeper(chain: Sequence[nn.Module], after: int) -> list[nn.Module]:
    """Net2DeeperNet: ``chain`` with an identity layer (and pass-through BatchNorm, and a ReLU) inserted after
    the activation at position ``after``; the modules themselves are shared, not copied."""
    act = chain[after]
    if not isinstance(act, nn.ReLU):
        raise ConfigError(f"Net2DeeperNet inserts identity layers after ReLU units only (relu(relu(x)) = relu(x)); "
                          f"a {type(act).__name__} has no identity layer")
    below = [m for m in chain[:after] if isinstance(m, WEIGHTED)]
    if not below:
        raise ConfigError("Net2DeeperNet inserts after a hidden layer; there is no weight layer below position "
                          f"{after}")
    layer = identity_layer(below[-1], _units(below[-1]))
    norms = [m for m in chain[:after] if isinstance(m, NORMS)]
    inserted = [layer, *([pass_through_norm(norms[-1])] if norms else []), nn.ReLU()]
    return [*chain[: after + 1], *inserted, *chain[after + 1:]]


def classifier_chain(net: DigitClassifier) -> list[nn.Module]:
    return [*net.body, net.head]


def _copy_chain(source: Sequence[nn.Module], target: Sequence[nn.Module]) -> None:
    if len(source) != len(target) or any(type(a) is not type(b) for a, b in zip(source, target)):
        raise ConfigError("the grown network does not match the student's architecture")
    for a, b in zip(source, target):
        b.load_state_dict(a.state_dict())


def wider_classifier(teacher: DigitClassifier, student: DigitClassifier, *, noise: float = 0.0,
                     generator: torch.Generator | None = None) -> DigitClassifier:
    """Widen ``teacher`` into ``student`` (same depth, wider or equal ``widths`` and ``feature_dim``)."""
    if (student.convs_per_block, student.hidden_layers) != (teacher.convs_per_block, teacher.hidden_layers):
        raise ConfigError("Net2WiderNet keeps the depth: give the student the teacher's convs_per_block and "
                          "hidden_layers")
    wider(classifier_chain(teacher), classifier_chain(student), noise=noise, generator=generator)
    return student


def deeper_classifier(teacher: DigitClassifier, student: DigitClassifier) -> DigitClassifier:
    """Deepen ``teacher`` into ``student`` (same widths, more ``convs_per_block`` and/or ``hidden_layers``):
    identity convolutions at the end of every block, identity fc layers before the head."""
    if (student.widths, student.feature_dim) != (teacher.widths, teacher.feature_dim):
        raise ConfigError("Net2DeeperNet keeps the widths: give the student the teacher's widths and feature_dim")
    extra_convs = student.convs_per_block - teacher.convs_per_block
    extra_fc = student.hidden_layers - teacher.hidden_layers
    if extra_convs < 0 or extra_fc < 0:
        raise ConfigError("Net2DeeperNet deepens: the student needs at least the teacher's layers")
    chain = classifier_chain(teacher)
    position = 0
    for _ in teacher.widths:  # each block: [conv, relu] x convs_per_block, pool
        position += 2 * teacher.convs_per_block - 1  # its last ReLU
        for _ in range(extra_convs):
            chain = deeper(chain, position)
            position += 2
        position += 2  # past the pool, to the next block's first conv
    position = len(chain) - 2  # the last hidden fc layer's ReLU
    for _ in range(extra_fc):
        chain = deeper(chain, position)
        position += 2
    _copy_chain(chain, classifier_chain(student))
    return student


def decoder_chain(decoder: ConvDecoder) -> list[nn.Module]:
    """The decoder's modules in forward order (the latent reshape before them, the sigmoid after)."""
    if decoder.seeds != 1:
        raise ConfigError("Net2Net grows one decoder: unstack seed-stacked decoders first")
    chain: list[nn.Module] = []
    for conv, norm, act in zip(decoder.convs, decoder.norms, decoder.acts):
        chain += [conv, norm, act]
    return [*chain, decoder.convs[-1]]


def run_decoder_chain(decoder: ConvDecoder, chain: Sequence[nn.Module], z: torch.Tensor) -> torch.Tensor:
    """The decoder's forward with its layers replaced by ``chain`` (a deepened decoder_chain)."""
    h = z.view(z.shape[0], decoder.nz, decoder.latent_hw, decoder.latent_hw)
    for module in chain:
        h = module(h)
    return torch.sigmoid(h)
