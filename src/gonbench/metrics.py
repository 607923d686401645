"""Metric definitions, each a pure function of tensors (unit-tested against hand-computed values).

recon_sse: squared error summed over C x H x W per image, then averaged over images (GON paper, Table 1).
recon_mse: the same per pixel (PPGN reconstructions); mse: per sample of a 1-D signal (denoisers).
elbo_bpd: negative ELBO in nats per image divided by (D ln 2), D = C x H x W (GON paper, Table 2).
psnr / ssim: data_range = 1, the definitions of torchmetrics (tests compare against it); computed here
because importing torchmetrics costs seconds in every evaluation job. ssim_map is SSIM per pixel, differentiable
(the super-resolution loss); psnr_images / ssim_images per image.
gcf: the global contrast factor (Matkovic et al. 2005); sr_composite: SSIM and GCF in one super-resolution score.
kid: KID on features of a network trained here (the PPGN sample judge), never downloaded Inception weights.
mmd2: MMD^2 of two samples under a kernel given as an argument (Gaussian sums, inverse multiquadratic, KID's
polynomial), unbiased by default; prior_mmd (the autoencoders' prior fit) is its value on codes and prior draws.
gradient_magnitude / sharpness_ratio: mean finite-difference gradient magnitude of images, and that of
reconstructions over that of their originals (DeePSiM: > 1 over-sharpened, < 1 blurred).
total_variation, relative_residual, pieces_used, iou, boundary_f, pixel_error: per-example numbers of the
piecewise experiments (1-D signals, 2-D masks).
Functions returning a tensor give one value per example; the tables average them over the validation split.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F


def recon_sse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image summed squared error [B]."""
    return ((x_hat - x) ** 2).flatten(1).sum(1)


def recon_mse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared error over C x H x W [B] (or per signal, over its samples)."""
    return ((x_hat - x) ** 2).flatten(1).mean(1)


def squared_distance(signals: torch.Tensor, fits: torch.Tensor) -> torch.Tensor:
    """Per-signal summed squared distance [B] of signals [B, n] to other signals (their k-piece fits)."""
    return ((signals - fits) ** 2).sum(1)


def relative_residual(signals: torch.Tensor, fits: torch.Tensor) -> torch.Tensor:
    """Squared distance to the fit over the signal's squared deviation from its mean [B]: scale-free, so a
    shrinking signal cannot fake a small residual."""
    spread = ((signals - signals.mean(1, keepdim=True)) ** 2).sum(1)
    return squared_distance(signals, fits) / spread.clamp_min(1e-12)


def bits_per_dim(nll_nats: torch.Tensor, dims: int) -> torch.Tensor:
    """Per-image negative log-likelihood (nats) -> bits per dimension."""
    return nll_nats / (dims * math.log(2.0))


def psnr(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """10 log10(1 / MSE) over the whole set (torchmetrics' default reduction), data range 1."""
    mse = ((x_hat.clamp(0, 1) - x) ** 2).mean()
    return float(10 * torch.log10(1.0 / mse))


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(t**2) / (2 * sigma**2))
    return g / g.sum()


def ssim_map(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-pixel SSIM [B, C, H, W] (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, k1 = .01, k2 = .03,
    data range 1, reflect-padded borders. Differentiable and in the inputs' dtype, so a loss can use it;
    ``ssim`` is its mean (clamped, in float64)."""
    c = x_hat.shape[1]
    g = _gaussian_window().to(device=x_hat.device, dtype=x_hat.dtype)
    rows, cols = g.view(1, 1, 11, 1).expand(c, 1, 11, 1), g.view(1, 1, 1, 11).expand(c, 1, 1, 11)

    def blur(t: torch.Tensor) -> torch.Tensor:  # the 2-D Gaussian is separable: two 1-D passes, ~5x cheaper
        return F.conv2d(F.conv2d(F.pad(t, (5, 5, 5, 5), mode="reflect"), rows, groups=c), cols, groups=c)

    mu_a, mu_b = blur(x_hat), blur(x)
    var_a, var_b = (blur(x_hat * x_hat) - mu_a**2).clamp_min(0), (blur(x * x) - mu_b**2).clamp_min(0)
    cov = blur(x_hat * x) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))


def ssim(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Mean SSIM averaged over pixels, channels and images (torchmetrics' convention), x_hat clamped to [0, 1]."""
    return float(ssim_map(x_hat.clamp(0, 1).double(), x.double()).mean())


def ssim_images(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean SSIM per image [B] (float64, x_hat clamped to [0, 1]); their mean over a set is ``ssim``."""
    return ssim_map(x_hat.clamp(0, 1).double(), x.double()).mean((1, 2, 3))


def psnr_images(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """PSNR per image [B], data range 1: 10 log10(1 / MSE) of each image (the super-resolution literature's
    average over test images, unlike ``psnr`` over the pooled set)."""
    mse = ((x_hat.clamp(0, 1).double() - x.double()) ** 2).mean((1, 2, 3))
    return 10 * torch.log10(1.0 / mse)


GCF_RESOLUTIONS = 9  # Matkovic et al.: the original image and 8 halvings (1024x768 down to 4x3)


def gcf_weight(i: int) -> float:
    """Weight of resolution i = 1 .. 9 in the global contrast factor (Matkovic et al. 2005, fitted to their
    perceptual study): (-0.406385 i/9 + 0.334573) i/9 + 0.0877526."""
    t = i / 9
    return (-0.406385 * t + 0.334573) * t + 0.0877526


def local_contrast(lum: torch.Tensor) -> torch.Tensor:
    """Per-pixel local contrast [B, 1, H, W] of perceptual luminance [B, 1, H, W]: the mean absolute difference to
    the 4-neighbours a pixel has (edge pixels average the neighbours that exist)."""
    diff = torch.zeros_like(lum)
    count = torch.zeros_like(lum)
    dv = (lum[..., 1:, :] - lum[..., :-1, :]).abs()
    dh = (lum[..., :, 1:] - lum[..., :, :-1]).abs()
    for d, lo, hi in ((dv, (..., slice(1, None), slice(None)), (..., slice(None, -1), slice(None))),
                      (dh, (..., slice(None), slice(1, None)), (..., slice(None), slice(None, -1)))):
        diff[lo] += d
        diff[hi] += d
        count[lo] += 1
        count[hi] += 1
    return diff / count.clamp_min(1)


def gcf(x: torch.Tensor, gamma: float = 2.2) -> torch.Tensor:
    """Global contrast factor per image [B] of images [B, C, H, W] in [0, 1] (Matkovic, Neumann, Neumann,
    Psik & Purgathofer, "Global Contrast Factor - a New Approach to Image Contrast", 2005). Linear luminance
    l = x^gamma (channels averaged first), perceptual luminance L = 100 sqrt(l); the average local contrast C_i
    of L at resolution i; GCF = sum_i w_i C_i (``gcf_weight``). Resolution 1 is the image, each next one
    averages 2x2 blocks of linear luminance (an odd last row or column is dropped), for at most 9 resolutions
    and while both sides are at least 2 pixels (a 64x64 image has 6)."""
    lin = x.double().clamp(0, 1).mean(1, keepdim=True) ** gamma
    total = torch.zeros(len(x), dtype=torch.float64, device=x.device)
    for i in range(1, GCF_RESOLUTIONS + 1):
        if min(lin.shape[-2:]) < 2:
            break
        total = total + gcf_weight(i) * local_contrast(100 * lin.sqrt()).mean((1, 2, 3))
        lin = F.avg_pool2d(lin, 2)
    return total


def gcf_ratio(gcf_hat: torch.Tensor, gcf_ref: torch.Tensor) -> torch.Tensor:
    """min(GCF, GCF_HR) / max(GCF, GCF_HR) per image: 1 when an estimate has the HR image's global contrast,
    lower whether contrast is lost (blur) or invented (noise, artefacts)."""
    return torch.minimum(gcf_hat, gcf_ref) / torch.maximum(gcf_hat, gcf_ref).clamp_min(1e-12)


def sr_composite(ssim_values: torch.Tensor, gcf_hat: torch.Tensor, gcf_ref: torch.Tensor) -> torch.Tensor:
    """One score of structure and contrast per image [B]: (SSIM + gcf_ratio) / 2, in [0, 1] for SSIM >= 0.
    Ravì et al. (2018) fuse SSIM and GCF into a composite score after normalising each; their exact formula is
    not reproduced here, so this one is ours: GCF alone rewards any added contrast, noise included, so it
    enters as agreement with the HR image's."""
    return (ssim_values + gcf_ratio(gcf_hat, gcf_ref)) / 2


Kernel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (a [m, d], b [n, d]) -> Gram matrix [m, n]


def squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """||a_i - b_j||^2 [m, n] by the expansion |a|^2 + |b|^2 - 2 a.b (no square root, so it is differentiable
    where two points meet; rounding below zero is clamped)."""
    return (a.pow(2).sum(1, keepdim=True) + b.pow(2).sum(1) - 2 * a @ b.T).clamp_min(0)


def gaussian_kernel(bandwidths: Sequence[float]) -> Kernel:
    """k(x, y) = sum over s of exp(-||x - y||^2 / (2 s)): a sum of Gaussian kernels, in the parameterisation of
    the GMMN paper and its code (Li et al. 2015, Sec. 3), where the bandwidth s divides the squared distance
    itself (a variance, not a standard deviation)."""
    scales = [float(s) for s in bandwidths]

    def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        d2 = squared_distances(a, b)
        return sum(torch.exp(-d2 / (2 * s)) for s in scales)

    return kernel


def inverse_multiquadratic_kernel(constants: Sequence[float]) -> Kernel:
    """k(x, y) = sum over C of C / (C + ||x - y||^2) (WAE, Tolstikhin et al. 2018, Sec. 4: heavier tails than a
    Gaussian, so codes far from the prior still get a gradient)."""
    values = [float(c) for c in constants]

    def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        d2 = squared_distances(a, b)
        return sum(c / (c + d2) for c in values)

    return kernel


def polynomial_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """k(x, y) = (x.y / d + 1)^3, the kernel of KID (Binkowski et al. 2018)."""
    return ((a @ b.T) / a.shape[1] + 1) ** 3


def mmd2(a: torch.Tensor, b: torch.Tensor, kernel: Kernel, *, unbiased: bool = True) -> torch.Tensor:
    """MMD^2 between samples a [m, d] and b [n, d] under ``kernel`` (Gretton et al. 2012), differentiable.
    Unbiased (the U-statistic, Eq. 3 there): the within-sample means leave out the i = j terms, so it can be
    negative when the two samples come from one distribution. ``unbiased=False``: the V-statistic, every pair
    (the squared distance of the two empirical mean embeddings, >= 0; the GMMN paper's training loss)."""
    m, n = len(a), len(b)
    k_aa, k_bb, k_ab = kernel(a, a), kernel(b, b), kernel(a, b)
    if unbiased:
        within_a = (k_aa.sum() - k_aa.diagonal().sum()) / (m * (m - 1))
        within_b = (k_bb.sum() - k_bb.diagonal().sum()) / (n * (n - 1))
    else:
        within_a, within_b = k_aa.mean(), k_bb.mean()
    return within_a + within_b - 2 * k_ab.mean()


def mmd2_polynomial(a: torch.Tensor, b: torch.Tensor) -> float:
    """Unbiased MMD^2 between feature sets a [m, d] and b [n, d] under KID's polynomial kernel, in float64."""
    return float(mmd2(a.double(), b.double(), polynomial_kernel))


def prior_mmd(codes: torch.Tensor, prior: torch.Tensor) -> float:
    """How far codes [n, d] are from draws of the prior N(0, I) [m, d]: unbiased MMD^2 (float64) under one
    Gaussian kernel of bandwidth s = d. For two prior draws E||x - y||^2 = 2d, so the kernel sits at the prior's
    own scale (the median heuristic); it is a kernel that neither an adversarial nor an IMQ-MMD autoencoder
    trains on, so the metric favours neither."""
    return float(mmd2(codes.double(), prior.double(), gaussian_kernel([codes.shape[1]])))


def kid(a: torch.Tensor, b: torch.Tensor, *, subsets: int, subset_size: int,
        generator: torch.Generator | None = None) -> tuple[float, float]:
    """Kernel Inception Distance on given features: mean and std of ``mmd2_polynomial`` over ``subsets``
    random subsets (without replacement) of ``subset_size`` rows of each set, capped at the smaller set."""
    size = min(subset_size, len(a), len(b))
    values = []
    for _ in range(subsets):
        ia = torch.randperm(len(a), generator=generator)[:size]
        ib = torch.randperm(len(b), generator=generator)[:size]
        values.append(mmd2_polynomial(a[ia.to(a.device)], b[ib.to(b.device)]))
    t = torch.tensor(values, dtype=torch.float64)
    return float(t.mean()), float(t.std()) if len(values) > 1 else 0.0


def inception_score(probs: torch.Tensor) -> float:
    """exp(mean_i KL(p(y|x_i) || p(y))) of class probabilities [N, K], p(y) their mean (Salimans et al. 2016):
    1 when every sample gets the same distribution, K when each is certain and the classes are used evenly."""
    probs = probs.double().clamp_min(1e-12)
    marginal = probs.mean(0, keepdim=True)
    return float(torch.exp((probs * (probs.log() - marginal.log())).sum(1).mean()))


def gradient_magnitude(images: torch.Tensor) -> torch.Tensor:
    """Per-image mean gradient magnitude [B]: with forward differences dx = x[i, j+1] - x[i, j] and
    dy = x[i+1, j] - x[i, j] on the (H-1) x (W-1) pixels that have both, the mean over channels and those
    pixels of sqrt(dx^2 + dy^2). Pixels in [0, 1]; a blurred image has smaller differences than a sharp one."""
    x = images.double()
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    return torch.sqrt(dx**2 + dy**2).flatten(1).mean(1)


def sharpness_ratio(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Mean gradient magnitude of the reconstructions over that of the images they reconstruct (a ratio of the
    two means over the set, so a nearly blank image cannot dominate): 1 = as sharp as the data, < 1 blurred,
    > 1 more edge energy than the data (over-sharpened, or high-frequency artefacts)."""
    return float(gradient_magnitude(x_hat).mean() / gradient_magnitude(x).mean().clamp_min(1e-12))


def total_variation(signals: torch.Tensor) -> torch.Tensor:
    """Sum of |x[t+1] - x[t]| along the last axis, per signal [B]."""
    return signals.diff(dim=-1).abs().flatten(1).sum(1)


def iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Intersection over union of boolean masks [B, ...], per mask; two empty masks agree perfectly (1)."""
    pred, target = pred.flatten(1), target.flatten(1)
    inter, union = (pred & target).sum(1).double(), (pred | target).sum(1).double()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def mask_boundary(masks: torch.Tensor) -> torch.Tensor:
    """Foreground pixels of boolean masks [B, 1, H, W] with a 4-neighbour in the background (the image
    border does not count as background)."""
    background = F.pad((~masks).float(), (1, 1, 1, 1))
    cross = background[..., :-2, 1:-1] + background[..., 2:, 1:-1] + background[..., 1:-1, :-2] + background[..., 1:-1, 2:]
    return masks & (cross > 0)


def boundary_f(pred: torch.Tensor, target: torch.Tensor, tolerance: int = 1) -> torch.Tensor:
    """Boundary F-score of boolean masks [B, 1, H, W], per mask: precision = share of predicted boundary
    pixels within ``tolerance`` pixels (Chebyshev distance) of the true boundary, recall the converse,
    F = 2PR / (P + R); two masks without boundary score 1, one without boundary 0."""
    bp, bt = mask_boundary(pred), mask_boundary(target)
    size = 2 * tolerance + 1

    def near(b: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(b.float(), size, stride=1, padding=tolerance) > 0

    n_p, n_t = bp.flatten(1).sum(1).double(), bt.flatten(1).sum(1).double()
    precision = (bp & near(bt)).flatten(1).sum(1) / n_p.clamp_min(1)
    recall = (bt & near(bp)).flatten(1).sum(1) / n_t.clamp_min(1)
    f = 2 * precision * recall / (precision + recall).clamp_min(1e-12)
    both_empty, one_empty = (n_p == 0) & (n_t == 0), (n_p == 0) ^ (n_t == 0)
    return torch.where(both_empty, torch.ones_like(f), torch.where(one_empty, torch.zeros_like(f), f))


def pixel_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Share of pixels where boolean masks [B, ...] disagree, per mask."""
    return (pred != target).flatten(1).float().mean(1)


def pieces_used(signals: torch.Tensor, fit: Callable[[torch.Tensor, int], torch.Tensor], k: int,
                tolerance: float) -> torch.Tensor:
    """Pieces of k that signals [B, n] really use [B]: the fewest j <= k whose best j-piece fit ``fit(signals,
    j)`` leaves a relative residual at most ``tolerance`` (a share of the signal's variance) above that of the
    k-piece fit. Scale-free and the same for constant and affine pieces: segments that only trim noise or split
    one straight stretch do not count, so a constant (or a line, for affine pieces) uses 1 piece."""
    levels = torch.stack([relative_residual(signals, fit(signals, j)) for j in range(1, k + 1)], 1)
    enough = levels <= levels[:, -1:] + tolerance
    return (enough.float().argmax(1) + 1).to(signals.dtype)  # argmax: the first j that is enough


def similarity_to_others(signals: torch.Tensor) -> torch.Tensor:
    """Per signal [B, n], its mean Pearson correlation with the other signals of the batch [B]: near 1 when a
    generator makes the same signal for every code (a collapse its per-signal loss does not see)."""
    z = signals - signals.mean(1, keepdim=True)
    z = z / z.norm(dim=1, keepdim=True).clamp_min(1e-12)
    corr = z @ z.T
    b = len(signals)
    return (corr.sum(1) - corr.diagonal()) / max(b - 1, 1)


def gradient_correlation(grads: torch.Tensor, max_lag: int) -> torch.Tensor:
    """Correlation of input gradients at points ``lag`` steps apart along a sweep, lags 0..max_lag.

    ``grads`` [N, P]: the gradient of N independently initialised nets at P ordered points. As in Balduzzi et
    al. (2017, Sec. 2) the expectation is over initialisations: at each point the N gradients are centred, and
    lag k gives the mean over points i of corr_N(g[:, i], g[:, i + k]). Brown noise (a random walk, shallow
    ReLU nets) stays near 1 at small lags, white noise (shattered gradients) drops to ~0 at lag 1, and a net
    that is linear in its input (looks-linear at initialisation) has 1 at every lag."""
    centred = grads - grads.mean(0, keepdim=True)
    scaled = centred / centred.pow(2).mean(0, keepdim=True).sqrt().clamp_min(1e-30)
    points = grads.shape[1]
    return torch.stack([(scaled[:, : points - k] * scaled[:, k:]).mean(0).mean() for k in range(max_lag + 1)])


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-image top-1 correctness (1.0 or 0.0)."""
    return (logits.argmax(1) == labels).float()


def steps_to_target(steps: Sequence[int], values: Sequence[float], target: float) -> float:
    """The first step count whose value reaches ``target`` (values measured after ``steps`` steps, in order);
    NaN when none does within the run."""
    for step, value in zip(steps, values):
        if value >= target:
            return float(step)
    return math.nan
