"""Synthetic 1-D data for the piecewise experiments (Cho et al.): random k-piece signals, and the Gaussian
latent codes that drive the data-free generators.

Both are generated, not read: float32 tensors [N, 1, 1, n] (one-pixel-high "images", so the loop, the
subsets and the prepared cache treat them like any dataset), made at the run's ``image_size`` = n from
fixed seeds, so every method and run seed sees the same signals.

Signals: ``PIECES`` pieces; each piece at least n // (2 * PIECES) samples long, the remaining samples spread
by uniform random cuts; constant pieces have a level ~ U[0, 1]; linear pieces join a start and an end value
~ U[0, 1] (independently per piece, so jumps at the breakpoints are allowed).

Latent codes: data-free training has no data. The loop still iterates over a training split, so the
"dataset" of a data-free generator is its input distribution: fixed banks of z ~ N(0, I) of dimension n,
whose size sets the steps per epoch; the validation bank gives every method the same latents to evaluate.
"""
from __future__ import annotations

from pathlib import Path

import torch

from .splits import ImageSplits

PIECES = 5  # pieces of every synthetic signal (the paper does not state its count)
TRAIN, VAL = 4096, 1024
SEEDS = {"train": 11, "val": 12}  # properties of the dataset, not of a run


def random_lengths(count: int, n: int, pieces: int, gen: torch.Generator) -> torch.Tensor:
    """Piece lengths [count, pieces] summing to n, each at least max(1, n // (2 * pieces))."""
    shortest = max(1, n // (2 * pieces))
    spare = n - shortest * pieces
    if spare < 0:
        raise ValueError(f"a signal of length {n} cannot hold {pieces} pieces")
    cuts = torch.randint(0, spare + 1, (count, pieces - 1), generator=gen).sort(1).values
    bounds = torch.cat([torch.zeros(count, 1, dtype=torch.long), cuts, torch.full((count, 1), spare)], 1)
    return shortest + bounds.diff(dim=1)


def piecewise_signals(count: int, n: int, degree: int, gen: torch.Generator, pieces: int = PIECES) -> torch.Tensor:
    """[count, n] random piecewise constant (degree 0) or linear (degree 1) signals with values in [0, 1]."""
    lengths = random_lengths(count, n, pieces, gen)
    ends = lengths.cumsum(1)
    starts = ends - lengths
    t = torch.arange(n)
    piece = (t[None, None, :] >= ends[:, :-1, None]).sum(1)  # [count, n] piece index of every sample
    first = torch.rand(count, pieces, generator=gen)
    if degree == 0:
        return first.gather(1, piece)
    last = torch.rand(count, pieces, generator=gen)
    offset = (t[None, :] - starts.gather(1, piece)).float()
    span = (lengths.gather(1, piece) - 1).clamp_min(1).float()
    return first.gather(1, piece) + (last - first).gather(1, piece) * offset / span


def _splits(make, meta: dict) -> ImageSplits:
    train = make(TRAIN, torch.Generator().manual_seed(SEEDS["train"]))
    val = make(VAL, torch.Generator().manual_seed(SEEDS["val"]))
    return ImageSplits(train[:, None, None, :], torch.zeros(TRAIN, dtype=torch.long),
                       val[:, None, None, :], torch.zeros(VAL, dtype=torch.long),
                       dict(meta, train=TRAIN, val=VAL, seeds=SEEDS))


def load_piecewise_constant(root: Path | None = None, *, download: bool = True, image_size: int = 64) -> ImageSplits:
    return _splits(lambda count, gen: piecewise_signals(count, image_size, 0, gen),
                   {"source": f"synthetic: {PIECES}-piece constant signals, levels ~ U[0, 1]", "pieces": PIECES})


def load_piecewise_linear(root: Path | None = None, *, download: bool = True, image_size: int = 64) -> ImageSplits:
    return _splits(lambda count, gen: piecewise_signals(count, image_size, 1, gen),
                   {"source": f"synthetic: {PIECES}-piece linear signals, end values ~ U[0, 1]", "pieces": PIECES})


def load_gaussian_codes(root: Path | None = None, *, download: bool = True, image_size: int = 16) -> ImageSplits:
    return _splits(lambda count, gen: torch.randn(count, image_size, generator=gen),
                   {"source": "synthetic: latent codes z ~ N(0, I) for data-free generators"})
