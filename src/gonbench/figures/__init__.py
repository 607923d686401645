"""Figures named after the paper figures they reproduce (one module per family; importing registers them in
``outputs.FIGURES``). Each writes PNG + PDF with the data behind it as CSV and its caption as
<name>.caption.md under reports/<profile>/figures/ (``base.save_figure``)."""
from . import (ablations, autoregressive, curves, deepsim, draw, generative, glo, piecewise, ppgn,  # noqa: F401
               samples, superres, transfer)  # (registration on import)
from .base import FigureResult, save_figure

__all__ = ["FigureResult", "save_figure"]
