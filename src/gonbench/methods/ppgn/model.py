"""The PPGN-h method: one ``train_step`` is one critic iteration, plus the generator step when it is due.

    L_G = sum over the adversaries of -critic(fake) + pixel_weight MSE(G(h), x) + feature_weight MSE(E_fc1(G(h)), h)

The variants differ only in data (see config.py): which critics exist, whether every critic or one at random
is trained per iteration, and the loss weights. One ``train_step`` call is one critic iteration on a fresh
batch (the thesis walks its epochs by critic batches); after the scheduled number of iterations the same
call also takes the generator step, on that last batch. Each generator step leaves a record (the Wasserstein
estimates of Fig. 4 and the step's wall time) that the loop writes to steps.jsonl. All work is in the
normalised pixel space.
"""
from __future__ import annotations

import time
from typing import Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from ... import metrics as M
from ...errors import ConfigError
from ...images import class_major_grid
from ...nets.ppgn import CODE_DIM, Encoder, Generator, denormalise, normalise
from ...sample_quality import conditional_scores
from ...sampling import mala_approx
from ...seeding import generator
from ..base import Batch, DataInfo, EvaluationContext, EvaluationExtras, Method, register_method
from .config import CombinedConfig, FC1AdvOnlyConfig, FC1Config, FC1NoPixelConfig, PPGNConfig, RandomConfig
from .wgan import CriticSchedule, build_critic, critic_step, in_burst

GRID_COLUMNS = 10  # samples per class (row) in the thesis' Figure 3 grids


@register_method
class PPGN(Method):
    """PPGN-h baseline: image critic D only (thesis "vanilla")."""

    name = "ppgn_vanilla"
    Config = PPGNConfig
    paper = "Pakdaman 2018, arXiv:1804.00630 (PPGN-h: Nguyen et al. 2017)"
    image_size = 28
    network_fields = ("encoder",)  # the sample judge is every run's own field (TrainConfig.judge)
    title, row_group = "vanilla (D)", "Image critic"
    metrics = frozenset({"recon_mse", "recon_sse", "psnr", "ssim", "sample_accuracy", "sample_confidence", "kid",
                         "sampler_seconds", "gen_update_seconds", "critic_iter_seconds"})

    def __init__(self, cfg: PPGNConfig, data: DataInfo, networks: Mapping[str, nn.Module]) -> None:
        super().__init__(cfg, data)
        if (data.channels, data.image_size) != (1, 28):
            raise ConfigError(f"{self.name} needs 1x28x28 images (MNIST), got {data.channels}x{data.image_size}"
                              f"x{data.image_size}; set image_size: 28")
        if not cfg.critics or (cfg.critic_choice == "random" and sorted(cfg.critics) != ["code", "image"]):
            raise ConfigError(f"critics={cfg.critics} with critic_choice={cfg.critic_choice}: name one or both "
                              f"of image, code; random needs both")
        self.encoder = networks["encoder"] if "encoder" in networks else Encoder().requires_grad_(False)
        self.generator = Generator(widths=tuple(cfg.g_widths))
        self.critics = nn.ModuleDict({name: build_critic(name, cfg) for name in cfg.critics})
        self.schedule = CriticSchedule(cfg)
        # E is frozen, so a training image's code never changes: computed on first sight, then looked up
        self.register_buffer("train_codes", torch.full((data.train_size, CODE_DIM), float("nan")), persistent=False)
        self._records: list[dict] = []
        self._cycle: dict = {}  # this cycle's last Wasserstein estimate per critic and its seconds

    def code(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)[0]

    @torch.no_grad()
    def cached_code(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        codes = self.train_codes[index]  # a copy (advanced indexing)
        missing = codes.isnan().any(1)
        if missing.any():
            codes[missing] = self.code(x[missing])
            self.train_codes[index[missing]] = codes[missing]
        return codes

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.cfg.beta1, self.cfg.beta2)
        nets = {"generator": self.generator, **self.critics}
        return {name: torch.optim.Adam(net.parameters(), lr=self.cfg.lr, betas=betas) for name, net in nets.items()}

    # -- training -----------------------------------------------------------------------------------
    def train_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, float]:
        t0 = time.perf_counter()
        x = normalise(batch["x"])
        h = self.cached_code(x, batch["index"])
        with torch.no_grad():
            real, fake = {"image": x, "code": h}, {"image": self.generator(h)}
        chosen = self.choose_critics(int(self.schedule.gen_step))
        if "code" in chosen:
            with torch.no_grad():
                fake["code"] = self.code(fake["image"])
        logs: dict[str, float] = {}
        for name in chosen:
            out = critic_step(self.critics[name], real[name], fake[name], optimizers[name], gp_weight=self.cfg.gp_weight)
            self._cycle[f"wasserstein_{name}"] = float(out["wasserstein"])
            logs.update({f"critic_{name}_{k}": float(v) for k, v in out.items()})
        logs["loss"] = sum(logs[f"critic_{name}_loss"] for name in chosen)
        cycle_iters = self.schedule.tick(self.data.train_size // len(x))  # the loop drops the last partial batch
        if cycle_iters:
            t_gen = time.perf_counter()
            terms = self.generator_loss(x, h, chosen)  # the adversaries are the critics trained last
            opt = optimizers["generator"]
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward(inputs=list(self.generator.parameters()))
            opt.step()
            logs.update({f"g_{k}": float(v.detach()) for k, v in terms.items()})
            self._end_cycle(cycle_iters, time.perf_counter() - t_gen, time.perf_counter() - t0)
        else:
            self._cycle["seconds"] = self._cycle.get("seconds", 0.0) + time.perf_counter() - t0
        return logs

    def choose_critics(self, gen_step: int) -> list[str]:
        if self.cfg.critic_choice == "all" or in_burst(gen_step, self.cfg):
            return list(self.critics)
        return ["image"] if float(torch.rand(())) < self.cfg.image_critic_p else ["code"]

    def generator_loss(self, x: torch.Tensor, h: torch.Tensor, adversaries: list[str]) -> dict[str, torch.Tensor]:
        """Unweighted terms (adv_<critic>, pixel, feature; zero-weight terms are not computed) and the
        weighted sum under "loss"."""
        cfg = self.cfg
        fake_x = self.generator(h)
        need_code = "code" in adversaries or cfg.feature_weight > 0
        fake = {"image": fake_x, "code": self.code(fake_x) if need_code else None}
        terms = {f"adv_{name}": -self.critics[name](fake[name]).mean() for name in adversaries}
        loss = sum(terms.values())
        if cfg.pixel_weight > 0:
            terms["pixel"] = F.mse_loss(fake_x, x)
            loss = loss + cfg.pixel_weight * terms["pixel"]
        if cfg.feature_weight > 0:
            terms["feature"] = F.mse_loss(fake["code"], h)
            loss = loss + cfg.feature_weight * terms["feature"]
        return {**terms, "loss": loss}

    def _end_cycle(self, iters: int, gen_seconds: float, last_call_seconds: float) -> None:
        seconds = self._cycle.pop("seconds", 0.0) + last_call_seconds
        self._records.append({"gen_step": int(self.schedule.gen_step), "critic_iters": iters, "seconds": seconds,
                              "gen_seconds": gen_seconds, **self._cycle})
        self._cycle = {}

    def pop_step_records(self) -> list[dict]:
        records, self._records = self._records, []
        return records

    # -- evaluation ---------------------------------------------------------------------------------
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """G(E_fc1(x)) for images in [0, 1], back in [0, 1]."""
        return denormalise(self.generator(self.code(normalise(x)))).clamp(0, 1)

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        x_hat = self.reconstruct(x)
        return {"recon_mse": M.recon_mse(x_hat, x), "recon_sse": M.recon_sse(x_hat, x), "_recon": x_hat}

    def sample(self, n: int) -> torch.Tensor:
        """Class-free samples: MALA-approx chains with the prior step only (eps2 = 0), from the global RNG
        (which evaluation seeds from the run's seed); images in [0, 1]."""
        cfg = self.cfg
        h = mala_approx(self.generator, self.encoder, None, steps=cfg.sampler_steps, eps1=cfg.eps1, eps2=0.0,
                        eps3=cfg.eps3, code_dim=CODE_DIM, chains=n, device=self.train_codes.device)
        with torch.no_grad():
            return denormalise(self.generator(h)).clamp(0, 1)

    def sample_class(self, classes: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
        """One MALA-approx chain per entry of ``classes``, conditioned through E's softmax; images in [0, 1]."""
        cfg = self.cfg
        h = mala_approx(self.generator, self.encoder, classes, steps=cfg.sampler_steps, eps1=cfg.eps1,
                        eps2=cfg.eps2, eps3=cfg.eps3, code_dim=CODE_DIM, rng=rng)
        with torch.no_grad():
            return denormalise(self.generator(h)).clamp(0, 1)

    def evaluation_extras(self, ctx: EvaluationContext) -> EvaluationExtras:
        """Class-conditional samples (the 10-per-row grid of Fig. 3, kept as class_samples.png and .pt),
        their scores by the independent judge, and the step timings of training."""
        cfg, device = self.cfg, ctx.val_x.device
        rng = generator(ctx.seed)
        classes = torch.arange(self.data.classes, device=device).repeat_interleave(cfg.samples_per_class)
        t0 = time.perf_counter()
        samples = self.sample_class(classes, rng)
        extras = EvaluationExtras(
            metrics={"sampler_seconds": time.perf_counter() - t0, "sampler_chains": len(classes)},
            grids={"class_samples.png": (class_major_grid(samples, self.data.classes, GRID_COLUMNS), GRID_COLUMNS)},
            tensors={"class_samples.pt": {"images": (samples * 255).round().to(torch.uint8).cpu(),
                                          "classes": classes.cpu()}})
        if "judge" in ctx.networks:
            extras.metrics.update(conditional_scores(ctx.networks["judge"], samples, classes, ctx.val_x,
                                                     kid_subsets=cfg.kid_subsets, kid_subset_size=cfg.kid_subset_size,
                                                     rng=rng))
        if ctx.steps:
            iters = sum(s["critic_iters"] for s in ctx.steps)
            extras.metrics.update(
                gen_steps=len(ctx.steps), critic_iterations=iters,
                gen_update_seconds=sum(s["gen_seconds"] for s in ctx.steps) / len(ctx.steps),
                critic_iter_seconds=sum(s["seconds"] - s["gen_seconds"] for s in ctx.steps) / iters)
        return extras


@register_method
class PPGNFC1(PPGN):
    """Code critic D1 on E_fc1(G(h)) instead of D (thesis "fc1")."""

    name = "ppgn_fc1"
    Config = FC1Config
    title, row_group = "fc1 (D1)", "Code critic"


@register_method
class PPGNFC1AdvOnly(PPGN):
    """D1's adversarial term alone: no pixel and no feature term."""

    name = "ppgn_fc1_adv_only"
    Config = FC1AdvOnlyConfig
    title, row_group = "fc1, adversarial term only", "Code critic"


@register_method
class PPGNFC1NoPixel(PPGN):
    """D1's adversarial term and the feature term, no pixel term."""

    name = "ppgn_fc1_no_pixel"
    Config = FC1NoPixelConfig
    title, row_group = "fc1, no pixel term", "Code critic"


@register_method
class PPGNCombined(PPGN):
    """D and D1 trained every iteration; both adversarial terms, 1:1, in G's loss (thesis "combined")."""

    name = "ppgn_combined"
    Config = CombinedConfig
    title, row_group = "combined (D + D1)", "Both critics"


@register_method
class PPGNRandom(PPGN):
    """One of D, D1 per critic iteration (p = .5; both in bursts); G meets the critic(s) trained last."""

    name = "ppgn_random"
    Config = RandomConfig
    title, row_group = "random (D or D1)", "Both critics"
