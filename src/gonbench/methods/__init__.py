"""Method registry; importing this package registers every method family (one module each)."""
from . import ae, glo, gon, implicit, vae  # noqa: F401  (registration on import)
from . import dae, datafree, segmentation  # noqa: F401  (the piecewise experiments)
from . import ppgn  # noqa: F401
from . import autoregressive, dcgan, deepsim, draw, gmmn, prior_ae  # noqa: F401  (the reading list's generative models)
from . import superres  # noqa: F401  (super-resolution of simulated fibre-bundle images)
from . import net2net, shattering  # noqa: F401  (Net2Net, looks-linear initialisation)
from .base import (METHODS, DataInfo, EvaluationContext, EvaluationExtras, Method, MethodConfig, build_method,
                   count_parameters)

__all__ = ["METHODS", "DataInfo", "EvaluationContext", "EvaluationExtras", "Method", "MethodConfig", "build_method",
           "count_parameters", "list_methods"]


def list_methods(pattern: str = "*") -> list[str]:
    return METHODS.names(pattern)
