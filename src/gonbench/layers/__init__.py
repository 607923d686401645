"""Differentiable piecewise approximation layers: k-piece fits of 1-D signals and connected-component means
of 2-D maps, with weak-Jacobian (or straight-through) backward passes."""
from .components import ConnectedComponentMean, component_labels
from .piecewise import (DEGREES, Piece, PiecewiseConstant, PiecewiseLinear, PiecewisePolynomial, make_piecewise,
                        piecewise_fit)
from .projection import BACKWARDS, Backward, PiecewiseProjection, project
from .segmentation import optimal_partition, segment_costs

__all__ = ["BACKWARDS", "DEGREES", "Backward", "ConnectedComponentMean", "Piece", "PiecewiseConstant",
           "PiecewiseLinear", "PiecewisePolynomial", "PiecewiseProjection", "component_labels", "make_piecewise",
           "optimal_partition", "piecewise_fit", "project", "segment_costs"]
from .looks_linear import LL_INITS, CReLU, LLInit, left_half, looks_linear_  # noqa: E402

__all__ += ["CReLU", "LLInit", "LL_INITS", "left_half", "looks_linear_"]
