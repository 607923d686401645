"""Figures named after the paper figures they reproduce (one module per family; importing registers them).

Each figure is written as PNG + PDF with the data behind it as CSV and its caption as <name>.caption.md
under reports/<profile>/figures/.
"""
from . import ablations, curves, generative  # noqa: F401  (registration on import)
from . import ppgn  # noqa: F401
from . import piecewise  # noqa: F401
from .base import FIGURES, build_figures, register_figure

__all__ = ["FIGURES", "build_figures", "register_figure"]
