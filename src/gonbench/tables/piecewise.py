"""Tables of the piecewise-layer experiments (Cho et al.): data-free generators, DAE vs DAEreg, segmentation."""
from __future__ import annotations

from .spec import TableSpec, register_table

register_table(TableSpec(
    "piecewise_datafree_table", "relative_residual",
    "Piecewise layers (Cho et al.), data-free generators: distance of G(z) to its best k-piece fit",
    columns=(("relative_residual", "relative residual", 4), ("pieces_used", "pieces used", 2),
             ("tv", "TV", 1), ("similarity", "similarity across codes", 3), ("signal_std", "raw std", 3)),
    note=("On fixed validation codes, s = G(z) standardised per signal (zero mean, unit variance). Relative "
          "residual: ||s - h(s)||² / ||s - mean(s)||² (scale-free); pieces used: the fewest j <= k whose best "
          "j-piece fit is within 1% of the signal's variance of the k-piece fit's residual; TV: total variation "
          "of s; similarity across codes: mean correlation of a signal with the other codes' signals in its "
          "validation batch (1 = the same signal for every code: neither loss rewards variety across codes); "
          "raw std: spread of the raw G(z) (a collapse towards a constant shows here). Training loss: "
          "||s - h(s)||² on the standardised s by default (normalise=standardise, our choice: the paper's loss on "
          "the raw G(z), normalise=none, has the constant signal as a global optimum); the value is in each "
          "run's config.json. With the STE the gradient of the loss is 2(s - h(s)) - 2(s - h(s)) = 0 by "
          "construction: its generator stays at its initialisation."),
    batchnorm=False))
register_table(TableSpec(
    "piecewise_dae_table", "mse",
    "Piecewise layers (Cho et al.), DAE vs DAEreg on noisy piecewise signals (validation)",
    columns=(("mse", "MSE", 5), ("piecewise_distance", "dist. to k-piece", 5), ("tv", "TV", 2)),
    note=("MSE: mean squared error of the output to the clean signal (the noisy input's is mse_noisy in each "
          "run's metrics.json); dist. to k-piece: mean squared distance of the output to its best k-piece fit; "
          "TV: total variation of the output (the clean signals': tv_clean). Noise fixed per validation signal. "
          "DAEreg without λ uses reg_weight from the run's config.json."),
    batchnorm=False))
register_table(TableSpec(
    "piecewise_seg_table", "iou",
    "Piecewise layers (Cho et al.), foreground segmentation of noisy digits with the connected-component layer",
    columns=(("iou", "IoU", 4), ("boundary_f", "boundary F", 4), ("pixel_error", "pixel error", 4)),
    note=("Stand-in for the paper's segmentation data (not available offline): the target is the clean digit's "
          "foreground (intensity > mask_threshold), the input the digit plus Gaussian noise (noise_std, fixed per "
          "validation image), the prediction output > threshold. Boundary F: F-score of boundary pixels "
          "(foreground with a background 4-neighbour) matched within boundary_tolerance pixels; settings in each "
          "run's config.json."),
    batchnorm=False))
