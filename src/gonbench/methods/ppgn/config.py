"""Settings of PPGN-h and of its variants; a variant changes only the fields that define it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...typecheck import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, Probability
from ..base import MethodConfig

CriticName = Literal["image", "code"]  # D on G(h), D1 on E_fc1(G(h)) viewed as 1x8x8


@dataclass
class PPGNConfig(MethodConfig):
    lr: PositiveFloat = 1e-4  # Adam, generator and every critic (thesis code)
    beta1: Probability = 0.5
    beta2: Probability = 0.9
    critics: list[CriticName] = field(default_factory=lambda: ["image"])
    critic_choice: Literal["all", "random"] = "all"  # random: one critic per iteration, every critic in bursts
    image_critic_p: Probability = 0.5  # P(the iteration trains D) when critic_choice is random
    gp_weight: NonNegativeFloat = 10.0  # WGAN-GP lambda
    pixel_weight: NonNegativeFloat = 2.0  # MSE(G(h), x)
    feature_weight: NonNegativeFloat = 0.1  # MSE(E_fc1(G(h)), h)
    critic_iters: PositiveInt = 5  # critic iterations per generator step ...
    burst_critic_iters: PositiveInt = 100  # ... except in bursts: the first burst_first_steps generator steps
    burst_first_steps: NonNegativeInt = 25  # and every burst_every-th one (the WGAN schedule the thesis code keeps)
    burst_every: PositiveInt = 500
    g_widths: list[PositiveInt] = field(default_factory=lambda: [512, 256, 256])
    d_widths: list[PositiveInt] = field(default_factory=lambda: [256, 256, 256, 512])
    d1_widths: list[PositiveInt] = field(default_factory=lambda: [256, 256, 512])
    encoder: str = ""  # the frozen E: a pretrained network (`gonbench pretrain`); "" = untrained E (unit tests)
    sampler_steps: PositiveInt = 200  # MALA-approx (thesis code: 200 steps, eps 1e-2, 1, 1e-15)
    eps1: NonNegativeFloat = 1e-2
    eps2: NonNegativeFloat = 1.0
    eps3: NonNegativeFloat = 1e-15
    samples_per_class: PositiveInt = 10  # chains per class for the sample scores; the grid shows the first 10
    kid_subsets: PositiveInt = 10
    kid_subset_size: PositiveInt = 100


@dataclass
class FC1Config(PPGNConfig):
    critics: list[CriticName] = field(default_factory=lambda: ["code"])


@dataclass
class FC1AdvOnlyConfig(FC1Config):
    pixel_weight: NonNegativeFloat = 0.0
    feature_weight: NonNegativeFloat = 0.0


@dataclass
class FC1NoPixelConfig(FC1Config):
    pixel_weight: NonNegativeFloat = 0.0


@dataclass
class CombinedConfig(PPGNConfig):
    critics: list[CriticName] = field(default_factory=lambda: ["image", "code"])


@dataclass
class RandomConfig(CombinedConfig):
    critic_choice: Literal["all", "random"] = "random"
