"""PPGN-h with critics on encoder codes (Pakdaman, "Updating the generator in PPGN-h with gradients flowing
through the encoder", arXiv:1804.00630; code hesampakdaman/ppgn-disc).

A generator G inverts the code h = relu(E_fc1(x)) of a frozen, pretrained encoder E. It is trained as a
WGAN-GP against an image critic D on G(h) (the PPGN-h baseline), a code critic D1 on E_fc1(G(h)) (so its
adversarial gradient reaches G through E), or both, plus pixel and feature reconstruction terms. The
package is split by job: ``config`` (the settings and the six variants), ``wgan`` (critic schedule, gradient
penalty, one critic update) and ``model`` (the method: its step, generator loss and evaluation).
"""
from .config import PPGNConfig
from .model import PPGN

__all__ = ["PPGN", "PPGNConfig"]
