"""Tables of the reading list's generative models beside the GON family: sample quality of every sampling method,
the likelihood family of Table 2 (bounds and exact likelihoods in one unit), and adversarial vs MMD priors."""
from __future__ import annotations

from .spec import TableSpec, register_table

JUDGE_NOTE = ("Samples are scored by the run's judge, a classifier of another architecture than any network a "
              "method trains or samples with, pretrained here on the same dataset (`mnist_classifier`, "
              "`fashion_mnist_classifier`; its test accuracy is `judge_test_accuracy` in each run's metrics.json); "
              "samples and validation images alike are resized to its 28×28 input. KID: unbiased MMD² with the "
              "cubic polynomial kernel between the judge's penultimate features of `sample_count` class-free "
              "samples and of the validation images, mean of 10 subsets of half the smaller set (lower is better).")

register_table(TableSpec(
    "generative", "sample_kid",
    "Generative models: class-free sample quality under an independent classifier, likelihood and cost per step",
    columns=(("sample_kid", "KID", 1), ("sample_confidence", "confidence", 3), ("sample_is", "IS", 2),
             ("sample_accuracy", "accuracy (cond.)", 3), ("elbo_bpd", "-ELBO bits/dim", 3),
             ("nll_bpd", "NLL bits/dim", 3), ("step_seconds", "s / step", 4)),
    note=(JUDGE_NOTE + " Confidence: the judge's mean top-1 probability; IS: exp E KL(p(y|x) || p(y)) under the "
          "judge (1 to 10, higher is better). Accuracy (cond.): only for class-conditional samples (the PPGN "
          "generator's MALA-approx chains asked for a class, agreement of the judge with that class; its class-free "
          "samples, scored in the other columns, take the prior step alone). Bits/dim: the negative ELBO (a bound) "
          "of the latent-variable models and the exact negative log-likelihood of the autoregressive ones, both "
          "of the 8-bit pixels, on the validation split; a model without a likelihood has neither. s / step: wall "
          "seconds per training step on this machine (one update of every network the method trains).")))

register_table(TableSpec(
    "likelihoods", "elbo_bpd",
    "GON paper Table 2 family: validation bits/dim of latent-variable models (negative ELBO, an upper bound on "
    "the NLL) beside autoregressive models (exact NLL)",
    columns=(("elbo_bpd", "-ELBO", 3), ("nll_bpd", "NLL", 3)),
    rows_with=("elbo_bpd", "nll_bpd"),
    note=("Both columns are bits per dimension of the same discrete likelihood of the 8-bit pixels, so a bound "
          "and an exact likelihood compare directly (a bound can only overstate the NLL). Published values in "
          "another setting, not comparable with these cells: DRAW <= 80.97 nats and the Diagonal BiLSTM 79.20 nats "
          "per image on binarised 28×28 MNIST (Bernoulli likelihood, full training set, long training).")))

register_table(TableSpec(
    "aae_mmd", "prior_mmd",
    "Adversarial autoencoder vs MMD autoencoder (WAE-MMD): the same encoder and decoder, a critic on codes or an "
    "MMD penalty",
    columns=(("recon_sse", "recon SSE", 2), ("prior_mmd", "MMD to prior", 4), ("sample_kid", "KID", 1),
             ("step_seconds", "s / step", 4)),
    note=("recon SSE: summed squared error per validation image; MMD to prior: MMD² of the validation codes to as "
          "many draws of the prior N(0, I), one fixed kernel for both methods (each run's metrics.json names it); "
          "KID of images decoded from prior draws, scored by the run's judge as in the generative table; s / step: "
          "wall seconds per training step, every optimiser's update included (the AAE's reconstruction, critic and "
          "encoder phases, the MMD-AE's single step).")))
