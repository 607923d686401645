"""The PPGN-h table (Pakdaman 2018): class-conditional sample scores, reconstructions and step times."""
from __future__ import annotations

from .spec import TableSpec, register_table

register_table(TableSpec(
    "ppgn", "sample_accuracy",
    "PPGN-h with critics on encoder codes (Pakdaman 2018): class-conditional MALA-approx samples and reconstructions",
    columns=(("sample_accuracy", "accuracy", 3), ("sample_confidence", "confidence", 3), ("kid", "KID", 1),
             ("recon_mse", "recon MSE", 4), ("train_seconds", "train s", 0),
             ("critic_iter_seconds", "s / critic iter", 3), ("gen_update_seconds", "s / G update", 3)),
    note=("Samples: MALA-approx chains conditioned through E's softmax, scored by an independently trained "
          "classifier (another architecture): its top-1 agreement with the requested class, its mean top-1 "
          "probability, and KID (unbiased MMD^2, cubic polynomial kernel) between its penultimate features of "
          "the samples and of the validation digits. recon MSE: per-pixel squared error of G(E_fc1(x)) in [0, 1] "
          "on the validation split. Times: wall seconds of training, per critic iteration, per generator update. "
          "Sampler steps, chains and widths are in each run's config.json."),
    batchnorm=False))
