"""Several seeds of one cell trained as one model: S networks side by side in grouped layers.

A method that sets ``seed_stackable`` builds, for ``DataInfo(seeds=S)``, S independent networks in one
module: grouped convolutions with the seeds on the channel axis (each BatchNorm channel belongs to one seed),
``SeedLinear`` heads, per-seed losses summed for the backward pass. Every parameter, buffer and Adam moment
then holds the S seeds' tensors one after another along its first axis (scalars, such as BatchNorm's batch
count and Adam's step, are shared: they are equal for all seeds). So a stacked model is built by training S
single-seed models' initial states into one (``stack``) and written back as S ordinary run directories
(``unstack``): each seed starts from exactly the weights it has alone, sees exactly its own batches, draws its
noise from its own stream, and its checkpoint can be resumed stacked or alone.

Why: a 74k-parameter decoder's step is bound by kernel launches and host work, not arithmetic; S seeds in one
step launch the kernels of one (measured in benchmarks/). The stacked numbers equal the single-seed ones up to
floating-point summation order (tests/test_seedstack.py measures the gap).
"""
from __future__ import annotations

import dataclasses

import torch

from .methods import DataInfo, Method


def _shared(value) -> bool:
    """Scalars (a tensor without axes, or a plain number such as SparseAdam's step) are common to all seeds."""
    return not isinstance(value, torch.Tensor) or value.dim() == 0


def stack(states: list[dict]) -> dict:
    """S state dicts -> one: tensors concatenated along their first axis, scalars taken from the first."""
    return {k: states[0][k] if _shared(states[0][k]) else torch.cat([s[k] for s in states]) for k in states[0]}


def unstack(state: dict, seeds: int) -> list[dict]:
    """One stacked state dict -> S (clones, so a seed's checkpoint owns its tensors)."""
    out: list[dict] = [{} for _ in range(seeds)]
    for k, v in state.items():
        parts = [v] * seeds if _shared(v) else v.chunk(seeds)
        for s, part in enumerate(parts):
            out[s][k] = part.detach().clone() if isinstance(part, torch.Tensor) else part
    return out


def stack_optimizer(states: list[dict]) -> dict:
    """S optimiser state dicts (same parameter order) -> one, moment by moment (Adam is elementwise)."""
    return {"state": {i: stack([s["state"][i] for s in states]) for i in states[0]["state"]},
            "param_groups": states[0]["param_groups"]}


def unstack_optimizer(state: dict, seeds: int) -> list[dict]:
    per_param = {i: unstack(v, seeds) for i, v in state["state"].items()}
    return [{"state": {i: per_param[i][s] for i in per_param}, "param_groups": state["param_groups"]}
            for s in range(seeds)]


def stacked_info(info: DataInfo, seeds: int) -> DataInfo:
    return dataclasses.replace(info, seeds=seeds)


def stack_batches(batches: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Each seed's own batch -> one: images on the channel axis [B, S*C, H, W], labels and indices [B, S]."""
    return {"x": torch.cat([b["x"] for b in batches], 1), "y": torch.stack([b["y"] for b in batches], 1),
            "index": torch.stack([b["index"] for b in batches], 1)}


def noise_generators(torch_states: list[torch.Tensor], device: torch.device) -> list[torch.Generator]:
    """One generator per seed, continuing the stream that seed's run draws its noise from."""
    gens = []
    for state in torch_states:
        g = torch.Generator(device="cpu")
        g.set_state(state)
        gens.append(g)
    return gens


def split_model(model: Method, singles: list[Method]) -> list[Method]:
    """Copy a stacked model's weights into S single-seed models (for validation and checkpoints)."""
    for single, state in zip(singles, unstack(model.state_dict(), len(singles))):
        single.load_state_dict(state)
    return singles
