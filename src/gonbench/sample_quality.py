"""Class-conditional samples scored by an independent classifier (the "judge", see nets/classifier.py).

accuracy: the judge's top-1 agrees with the requested class; confidence: the judge's mean top-1
probability; KID: unbiased polynomial-kernel MMD^2 between the judge's penultimate features of the samples
and of real held-out digits (metrics.kid). The judge never steered the samples, so fooling the sampler's
own classifier with non-digits does not score.
"""
from __future__ import annotations

import torch

from . import metrics as M
from .nets.classifier import DigitClassifier
from .nets.ppgn import normalise


@torch.no_grad()
def judge_features(judge: DigitClassifier, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Penultimate features of images in [0, 1], in fixed batches."""
    return torch.cat([judge.features(normalise(images[i:i + batch_size])) for i in range(0, len(images), batch_size)])


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
