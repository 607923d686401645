"""Samples scored by an independent classifier (the "judge", see nets/classifier.py), one per dataset.

accuracy (class-conditional samples only): the judge's top-1 agrees with the requested class; confidence: the
judge's mean top-1 probability; KID: unbiased polynomial-kernel MMD^2 between the judge's penultimate features
of the samples and of real held-out images (metrics.kid); IS: the Inception Score's form with the judge,
exp E_x KL(p(y|x) || p(y)), high when samples are confidently classified and cover the classes. The judge
never steered the samples, so fooling a sampler's own classifier with non-images does not score. Images are
resized to the judge's resolution (bilinear, antialiased) before scoring, real and generated alike.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import metrics as M
from .nets.classifier import DigitClassifier
from .nets.ppgn import normalise


def judge_input(judge: DigitClassifier, images: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] at the judge's resolution."""
    size = judge.image_size
    if images.shape[-1] == size:
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


@torch.no_grad()
def judge_features(judge: DigitClassifier, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Penultimate features of images in [0, 1], in fixed batches."""
    images = judge_input(judge, images)
    return torch.cat([judge.features(normalise(images[i:i + batch_size])) for i in range(0, len(images), batch_size)])


def kid_subset_size(n_fake: int, n_real: int) -> int:
    """Half the smaller set: subsets drawn without replacement then differ, so the KID's spread means something."""
    return max(2, min(n_fake, n_real) // 2)


@torch.no_grad()
def unconditional_scores(judge: DigitClassifier, samples: torch.Tensor, real: torch.Tensor, *, kid_subsets: int = 10,
                         rng: torch.Generator | None = None) -> dict[str, float]:
    """Scores of class-free ``samples`` ([N, C, H, W] in [0, 1]) against ``real`` held-out images."""
    fake_features, real_features = judge_features(judge, samples), judge_features(judge, real)
    probs = torch.softmax(judge.head(fake_features), dim=1).double()
    size = kid_subset_size(len(samples), len(real))
    kid_mean, kid_std = M.kid(fake_features, real_features, subsets=kid_subsets, subset_size=size, generator=rng)
    return {"sample_kid": kid_mean, "sample_kid_std": kid_std, "sample_kid_subset_size": size,
            "sample_confidence": float(probs.max(1).values.mean()), "sample_is": M.inception_score(probs),
            "sample_count": len(samples)}


@torch.no_grad()
def conditional_scores(judge: DigitClassifier, samples: torch.Tensor, classes: torch.Tensor, real: torch.Tensor, *,
                       kid_subsets: int, kid_subset_size: int, rng: torch.Generator | None = None) -> dict[str, float]:
    """Scores of ``samples`` ([N, 1, 28, 28] in [0, 1]) drawn for ``classes`` [N], against ``real`` images."""
    fake_features = judge_features(judge, samples)
    probs = torch.softmax(judge.head(fake_features), dim=1)
    kid_mean, kid_std = M.kid(fake_features, judge_features(judge, real), subsets=kid_subsets,
                              subset_size=kid_subset_size, generator=rng)
    return {"sample_accuracy": float((probs.argmax(1) == classes).float().mean()),
            "sample_confidence": float(probs.max(1).values.mean()),
            "kid": kid_mean, "kid_std": kid_std,
            "kid_subset_size": min(kid_subset_size, len(samples), len(real)), "kid_real_images": len(real)}
