"""PPGN-h with critics on encoder codes (Pakdaman, "Updating the generator in PPGN-h with gradients flowing
through the encoder", arXiv:1804.00630; code hesampakdaman/ppgn-disc).

A generator G inverts the code h = relu(E_fc1(x)) of a frozen, pretrained encoder E. It is trained as a
WGAN-GP against an image critic D on G(h) (the PPGN-h baseline), a code critic D1 on E_fc1(G(h)) (so its
adversarial gradient reaches G through E), or both, plus pixel and feature reconstruction terms:

    L_G = sum over the adversaries of -critic(fake) + pixel_weight MSE(G(h), x) + feature_weight MSE(E_fc1(G(h)), h)

The variants differ only in data: which critics exist, whether every critic or one at random is trained per
iteration, and the loss weights. One ``train_step`` call is one critic iteration on a fresh batch (the thesis
walks its epochs by critic batches); after the scheduled number of iterations the same call also takes the
generator step, on that last batch. Each generator step leaves a record (the Wasserstein estimates of Fig. 4
and the step's wall time) that the loop writes to steps.jsonl. All work is in the normalised pixel space.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError
from ..nets.ppgn import CODE_DIM, CodeCritic, Encoder, Generator, ImageCritic, denormalise, normalise
from .base import Batch, DataInfo, Method, MethodConfig, register_method

CriticName = Literal["image", "code"]  # D on G(h), D1 on E_fc1(G(h)) viewed as 1x8x8


@dataclass
class PPGNConfig(MethodConfig):
    lr: float = 1e-4  # Adam, generator and every critic (thesis code)
    beta1: float = 0.5
    beta2: float = 0.9
    critics: list[CriticName] = field(default_factory=lambda: ["image"])
    critic_choice: Literal["all", "random"] = "all"  # random: one critic per iteration, every critic in bursts
    image_critic_p: float = 0.5  # P(the iteration trains D) when critic_choice is random
    gp_weight: float = 10.0  # WGAN-GP lambda
    pixel_weight: float = 2.0  # MSE(G(h), x)
    feature_weight: float = 0.1  # MSE(E_fc1(G(h)), h)
    critic_iters: int = 5  # critic iterations per generator step ...
    burst_critic_iters: int = 100  # ... except in bursts: the first burst_first_steps generator steps
    burst_first_steps: int = 25  # and every burst_every-th one (the WGAN schedule the thesis code keeps)
    burst_every: int = 500
    g_widths: list[int] = field(default_factory=lambda: [512, 256, 256])
    d_widths: list[int] = field(default_factory=lambda: [256, 256, 256, 512])
    d1_widths: list[int] = field(default_factory=lambda: [256, 256, 512])
    encoder_path: str = ""  # frozen E (`gonbench pretrain --network ppgn_encoder`); "" = untrained E, unit tests
    classifier_path: str = ""  # the independent judge of the samples; "" = no sample scores
    sampler_steps: int = 200  # MALA-approx (thesis code: 200 steps, eps 1e-2, 1, 1e-15)
    eps1: float = 1e-2
    eps2: float = 1.0
    eps3: float = 1e-15
    samples_per_class: int = 10  # chains per class for the sample scores; the grid shows the first 10
    kid_subsets: int = 10
    kid_subset_size: int = 100


def critic_iterations(gen_step: int, cfg: PPGNConfig) -> int:
    """Critic iterations before generator step ``gen_step`` (0-based)."""
    return cfg.burst_critic_iters if in_burst(gen_step, cfg) else cfg.critic_iters


def in_burst(gen_step: int, cfg: PPGNConfig) -> bool:
    return gen_step < cfg.burst_first_steps or gen_step % cfg.burst_every == 0


class CriticSchedule(nn.Module):
    """Where training is in the WGAN schedule; buffers, so a resumed run continues it.

    One ``tick`` per critic iteration. A cycle ends, and the generator steps, after critic_iterations(gen_step)
    iterations or at the last batch of an epoch, whichever is first: the thesis code follows the
    WassersteinGAN reference loop, which cuts a cycle short at the end of the data (15 MNIST epochs of 1,875
    batches give 4,993 generator steps, 19 after the first epoch).
    """

    def __init__(self, cfg: PPGNConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("gen_step", torch.zeros((), dtype=torch.long))
        self.register_buffer("cycle_iter", torch.zeros((), dtype=torch.long))
        self.register_buffer("epoch_iter", torch.zeros((), dtype=torch.long))

    def tick(self, batches_per_epoch: int) -> int:
        """Count one critic iteration; returns the cycle's iterations when the generator step is due, else 0."""
        self.cycle_iter += 1
        self.epoch_iter += 1
        epoch_end = int(self.epoch_iter) >= batches_per_epoch
        if epoch_end:
            self.epoch_iter.zero_()
        iters = int(self.cycle_iter)
        if not (epoch_end or iters >= critic_iterations(int(self.gen_step), self.cfg)):
            return 0
        self.gen_step += 1
        self.cycle_iter.zero_()
        return iters


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, *, weight: float,
                     alpha: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): weight * mean (||grad critic(x_hat)||_2 - 1)^2 over the batch, with
    x_hat = alpha real + (1 - alpha) fake and alpha ~ U[0, 1) per sample."""
    if alpha is None:
        alpha = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


GRID_COLUMNS = 10  # samples per class (row) in the thesis' Figure 3 grids


def class_grid(samples: torch.Tensor, classes: int) -> torch.Tensor:
    """The first GRID_COLUMNS samples of each class, class-major (``samples`` holds equally many per class)."""
    return samples.view(classes, -1, *samples.shape[1:])[:, :GRID_COLUMNS].flatten(0, 1)


def build_critic(name: CriticName, cfg: PPGNConfig) -> nn.Module:
    return ImageCritic(widths=tuple(cfg.d_widths)) if name == "image" else CodeCritic(widths=tuple(cfg.d1_widths))


@register_method
class PPGN(Method):
    """PPGN-h baseline: image critic D only (thesis "vanilla")."""

    name = "ppgn_vanilla"
    Config = PPGNConfig
    paper = "Pakdaman 2018, arXiv:1804.00630 (PPGN-h: Nguyen et al. 2017)"
    image_size = 28

    def __init__(self, cfg: PPGNConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        if (data.channels, data.image_size) != (1, 28):
            raise ConfigError(f"{self.name} needs 1x28x28 images (MNIST), got {data.channels}x{data.image_size}"
                              f"x{data.image_size}; set image_size: 28")
        if not cfg.critics or (cfg.critic_choice == "random" and sorted(cfg.critics) != ["code", "image"]):
            raise ConfigError(f"critics={cfg.critics} with critic_choice={cfg.critic_choice}: name one or both "
                              f"of image, code; random needs both")
        from ..pretrain import load_pretrained

        self.encoder = load_pretrained(cfg.encoder_path, "ppgn_encoder") if cfg.encoder_path \
            else Encoder().requires_grad_(False)
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
            logs.update(self._critic_step(name, real[name], fake[name], optimizers[name]))
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

    def _critic_step(self, name: str, real: torch.Tensor, fake: torch.Tensor, opt) -> dict[str, float]:
        critic = self.critics[name]
        d_real, d_fake = critic(real).mean(), critic(fake).mean()
        gp = gradient_penalty(critic, real, fake, weight=self.cfg.gp_weight)
        loss = d_fake - d_real + gp
        opt.zero_grad(set_to_none=True)
        loss.backward(inputs=list(critic.parameters()))
        opt.step()
        wasserstein = float((d_real - d_fake).detach())  # the critic's estimate of W(real, fake) before its update
        self._cycle[f"wasserstein_{name}"] = wasserstein
        return {f"critic_{name}_loss": float(loss.detach()), f"critic_{name}_wasserstein": wasserstein,
                f"critic_{name}_gp": float(gp.detach())}

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
        err = ((x_hat - x) ** 2).flatten(1)
        return {"recon_mse": err.mean(1), "recon_sse": err.sum(1), "_recon": x_hat}

    def sample_class(self, classes: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
        """One MALA-approx chain per entry of ``classes``, conditioned through E's softmax; images in [0, 1]."""
        from ..sampling import mala_approx

        cfg = self.cfg
        h = mala_approx(self.generator, self.encoder, classes, steps=cfg.sampler_steps, eps1=cfg.eps1,
                        eps2=cfg.eps2, eps3=cfg.eps3, code_dim=CODE_DIM, rng=rng)
        with torch.no_grad():
            return denormalise(self.generator(h)).clamp(0, 1)

    def extra_metrics(self, run) -> dict:
        """Class-conditional samples (the 10-per-row grid of Fig. 3, saved as samples.png and class_samples.pt),
        their scores by the independent judge, the pretrained networks' test accuracy and step timings."""
        from ..images import save_grid
        from ..io import read_jsonl, torch_save
        from ..pretrain import load_pretrained, pretrained_summary
        from ..sample_quality import conditional_scores

        cfg, device = self.cfg, run.device
        rng = torch.Generator().manual_seed(run.spec["seed"])
        classes = torch.arange(self.data.classes, device=device).repeat_interleave(cfg.samples_per_class)
        t0 = time.perf_counter()
        samples = self.sample_class(classes, rng)
        out = {"sampler_seconds": time.perf_counter() - t0, "sampler_chains": len(classes),
               "encoder_test_accuracy": pretrained_summary(cfg.encoder_path).get("test_accuracy")}
        save_grid(run.path / "samples.png", class_grid(samples, self.data.classes), nrow=GRID_COLUMNS)
        torch_save(run.path / "class_samples.pt", {"images": (samples * 255).round().to(torch.uint8).cpu(),
                                                   "classes": classes.cpu()})
        if cfg.classifier_path:
            judge = load_pretrained(cfg.classifier_path, "mnist_classifier", device)
            real, _ = run.val_data()
            out.update(conditional_scores(judge, samples, classes, real.to(device), kid_subsets=cfg.kid_subsets,
                                          kid_subset_size=cfg.kid_subset_size, rng=rng),
                       classifier_test_accuracy=pretrained_summary(cfg.classifier_path).get("test_accuracy"))
        steps = read_jsonl(run.path / "steps.jsonl")
        if steps:
            iters = sum(s["critic_iters"] for s in steps)
            out.update(gen_steps=len(steps), critic_iterations=iters,
                       gen_update_seconds=sum(s["gen_seconds"] for s in steps) / len(steps),
                       critic_iter_seconds=sum(s["seconds"] - s["gen_seconds"] for s in steps) / iters)
        return out


@dataclass
class FC1Config(PPGNConfig):
    critics: list[CriticName] = field(default_factory=lambda: ["code"])


@dataclass
class FC1AdvOnlyConfig(FC1Config):
    pixel_weight: float = 0.0
    feature_weight: float = 0.0


@dataclass
class FC1NoPixelConfig(FC1Config):
    pixel_weight: float = 0.0


@dataclass
class CombinedConfig(PPGNConfig):
    critics: list[CriticName] = field(default_factory=lambda: ["image", "code"])


@dataclass
class RandomConfig(CombinedConfig):
    critic_choice: Literal["all", "random"] = "random"


@register_method
class PPGNFC1(PPGN):
    """Code critic D1 on E_fc1(G(h)) instead of D (thesis "fc1")."""

    name = "ppgn_fc1"
    Config = FC1Config


@register_method
class PPGNFC1AdvOnly(PPGN):
    """D1's adversarial term alone: no pixel and no feature term."""

    name = "ppgn_fc1_adv_only"
    Config = FC1AdvOnlyConfig


@register_method
class PPGNFC1NoPixel(PPGN):
    """D1's adversarial term and the feature term, no pixel term."""

    name = "ppgn_fc1_no_pixel"
    Config = FC1NoPixelConfig


@register_method
class PPGNCombined(PPGN):
    """D and D1 trained every iteration; both adversarial terms, 1:1, in G's loss (thesis "combined")."""

    name = "ppgn_combined"
    Config = CombinedConfig


@register_method
class PPGNRandom(PPGN):
    """One of D, D1 per critic iteration (p = .5; both in bursts); G meets the critic(s) trained last."""

    name = "ppgn_random"
    Config = RandomConfig
