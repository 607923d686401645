"""Low-resolution images simulated from high-resolution ones as a fibre bundle sees them (Ravì et al., "Effective
deep learning training for single-image super-resolution in endomicroscopy exploiting video-registration-based
reconstruction", IJCARS 2018, Sec. "Simulating LR images").

A probe-based confocal endomicroscope images tissue through a bundle of irregularly placed optical fibres,
each a single-pixel detector. The paper simulates that acquisition from an HR image: every fibre collects the
mean of the HR image over its Voronoi cell (the pixels nearer to it than to any other fibre), the signals get
additive noise, and the fibre signals are put back on the pixel grid by linear interpolation on their Delaunay
triangulation. The LR image therefore shares the HR image's pixel grid; what it lacks is the detail finer than
the fibre spacing. One bundle (one fixed set of fibre positions, as one probe has) serves every image.

Fibres: a hexagonal grid of spacing ``size / FIBRES_ACROSS`` pixels, each node moved by Gaussian jitter, laid
one spacing beyond the image on every side so the triangulation's hull covers the image; fibres whose cell
holds no pixel are dropped. A pixel outside the hull (possible at a corner after jitter) takes its nearest
fibre's signal. Everything is drawn from ``numpy.random.default_rng(FIBRE_SEED)``: the simulation is a
property of the dataset, identical for every run.

The stand-in HR images are COIL-20's (the paper's pCLE videos are not available). Its validation split holds
whole objects out (every fifth object), so validation measures super-resolution of objects never seen in
training. Each prepared image stacks, on the channel axis, the linear (Delaunay) LR image the networks take,
the same fibre signals interpolated cubically (Clough-Tocher, the scattered-data analogue of bicubic
upsampling: the baseline row) and the HR image (channels ``LR_LINEAR``, ``LR_CUBIC``, ``HR``).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import scipy.sparse
import torch
from scipy.interpolate import CloughTocher2DInterpolator, LinearNDInterpolator
from scipy.spatial import Delaunay, cKDTree

from .coil20 import load_coil20
from .splits import ImageSplits, resize_uint8

LR_LINEAR, LR_CUBIC, HR = 0, 1, 2  # channels of a prepared image
FIBRES_ACROSS = 24  # hexagonal grid spacing = image size / 24 (~660 fibres at any resolution)
JITTER = 0.2  # standard deviation of each fibre's displacement, in grid spacings
NOISE_STD = 0.02  # additive Gaussian noise on each fibre signal (images in [0, 1])
FIBRE_SEED = 0
HELD_OUT_EVERY = 5  # validation objects: COIL-20 objects 5, 10, 15, 20


def hexagonal_fibres(size: int, spacing: float, jitter: float, rng: np.random.Generator) -> np.ndarray:
    """Fibre centres [n, 2] as (row, column) in pixel units: a jittered hexagonal grid reaching one spacing past
    every side of a ``size`` x ``size`` image (pixel centres at 0 .. size - 1)."""
    dy = spacing * math.sqrt(3) / 2
    points = []
    for r, y in enumerate(np.arange(-spacing, size - 1 + spacing + dy, dy)):
        xs = np.arange(-spacing, size - 1 + 2 * spacing, spacing) + (spacing / 2 if r % 2 else 0.0)
        points.append(np.stack([np.full_like(xs, y), xs], 1))
    points = np.concatenate(points)
    return points + rng.normal(0.0, jitter * spacing, points.shape)


class FibreBundle:
    """One fixed fibre bundle over a ``size`` x ``size`` pixel grid: which fibre each pixel's light reaches
    (nearest centre, i.e. its Voronoi cell) and the Delaunay triangulation that interpolates back."""

    def __init__(self, size: int, fibres: np.ndarray) -> None:
        rows, cols = np.meshgrid(np.arange(size, dtype=np.float64), np.arange(size, dtype=np.float64), indexing="ij")
        self.pixels = np.stack([rows.ravel(), cols.ravel()], 1)  # [P, 2]
        _, cell = cKDTree(fibres).query(self.pixels)
        used = np.unique(cell)  # a fibre whose cell holds no pixel has no signal: drop it
        self.fibres = fibres[used]
        self.cell = np.searchsorted(used, cell)  # pixel -> fibre
        counts = np.bincount(self.cell, minlength=len(self.fibres))
        p = len(self.pixels)
        self.mean = scipy.sparse.csr_matrix((1.0 / counts[self.cell], (np.arange(p), self.cell)),
                                            shape=(p, len(self.fibres)))  # images [N, P] @ mean -> cell means
        self.triangulation = Delaunay(self.fibres)
        self.size = size

    def signals(self, images: np.ndarray) -> np.ndarray:
        """Each fibre's signal [N, n]: the mean of each image [N, P] over the fibre's Voronoi cell."""
        return np.asarray(images @ self.mean)

    def interpolate(self, signals: np.ndarray, kind: str = "linear") -> np.ndarray:
        """Fibre signals [N, n] back on the pixel grid [N, P]: linear (barycentric) or Clough-Tocher cubic on the
        Delaunay triangulation; a pixel outside its hull takes its nearest fibre's signal."""
        cls = LinearNDInterpolator if kind == "linear" else CloughTocher2DInterpolator
        values = cls(self.triangulation, signals.T, fill_value=np.nan)(self.pixels).T  # [N, P]
        outside = np.isnan(values[0])
        values[:, outside] = signals[:, self.cell[outside]]
        return values

    def noisy_signals(self, images: np.ndarray, noise_std: float, rng: np.random.Generator) -> np.ndarray:
        """Fibre signals [N, n] of HR images [N, H, W] (float) with additive Gaussian noise of ``noise_std``."""
        signals = self.signals(images.reshape(len(images), -1).astype(np.float64))
        return signals + rng.normal(0.0, noise_std, signals.shape) if noise_std > 0 else signals

    def simulate(self, images: np.ndarray, noise_std: float, rng: np.random.Generator,
                 kind: str = "linear") -> np.ndarray:
        """Simulated LR images [N, H, W] of HR images [N, H, W] (float): noisy cell means interpolated back."""
        return self.interpolate(self.noisy_signals(images, noise_std, rng), kind).reshape(images.shape)


def default_bundle(size: int) -> FibreBundle:
    rng = np.random.default_rng(FIBRE_SEED)
    return FibreBundle(size, hexagonal_fibres(size, size / FIBRES_ACROSS, JITTER, rng))


def fibre_pairs(hr: torch.Tensor, bundle: FibreBundle, noise_std: float, seed: int) -> torch.Tensor:
    """uint8 HR images [N, 1, H, W] -> uint8 [N, 3, H, W]: linear LR, cubic LR (the same noisy fibre signals)
    and HR. The noise of image i depends only on (seed, i)."""
    x = hr[:, 0].double().numpy() / 255.0
    signals = bundle.noisy_signals(x, noise_std, np.random.default_rng(seed))
    lr = [bundle.interpolate(signals, kind).reshape(x.shape) for kind in ("linear", "cubic")]
    to_uint8 = lambda a: torch.from_numpy(np.clip(np.round(a * 255.0), 0, 255).astype(np.uint8))  # noqa: E731
    return torch.stack([to_uint8(lr[0]), to_uint8(lr[1]), hr[:, 0]], 1)


def hold_out_objects(splits: ImageSplits) -> ImageSplits:
    """COIL-20 re-split by object: every ``HELD_OUT_EVERY``-th object is validation, images grouped by object."""
    images = torch.cat([splits.train, splits.val])
    labels = torch.cat([splits.train_labels, splits.val_labels])
    order = torch.argsort(labels, stable=True)
    images, labels = images[order], labels[order]
    val = (labels + 1) % HELD_OUT_EVERY == 0
    meta = dict(splits.meta, split=f"by object: objects {HELD_OUT_EVERY}, {2 * HELD_OUT_EVERY}, ... held out")
    return ImageSplits(images[~val], labels[~val], images[val], labels[val], meta)


def load_coil20_fibres(root: Path, *, download: bool = True, image_size: int = 128) -> ImageSplits:
    """COIL-20 at ``image_size`` as (LR linear, LR cubic, HR) triples; see the module docstring."""
    splits = hold_out_objects(load_coil20(root, download=download))
    bundle = default_bundle(image_size)
    train = fibre_pairs(resize_uint8(splits.train, image_size), bundle, NOISE_STD, FIBRE_SEED + 1)
    val = fibre_pairs(resize_uint8(splits.val, image_size), bundle, NOISE_STD, FIBRE_SEED + 2)
    meta = dict(splits.meta, fibres=len(bundle.fibres), fibre_spacing=image_size / FIBRES_ACROSS, jitter=JITTER,
                noise_std=NOISE_STD, fibre_seed=FIBRE_SEED, channels="LR (Delaunay linear), LR (Clough-Tocher), HR")
    return ImageSplits(train, splits.train_labels, val, splits.val_labels, meta)
