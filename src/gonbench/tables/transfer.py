"""Tables of the looks-linear (shattered gradients) and Net2Net studies (classifiers, and a widened GON)."""
from __future__ import annotations

from .spec import TableSpec, register_table

register_table(TableSpec(
    "shattering", "grad_corr",
    "Shattered gradients (Balduzzi et al. 2017): correlation of the input gradients of 1-D nets at initialisation "
    "between nearby points of a sweep over [-3, 3], by architecture and depth",
    columns=(("grad_corr", "corr., lag 1", 3), ("grad_corr_far", "corr., far lag", 3), ("grad_abs", "mean |df/dx|", 3)),
    batchnorm=False,
    note=("Each run: `nets` independently initialised nets R -> R (`width` units per hidden layer, `depth` hidden "
          "layers), df/dx at `points` equally spaced inputs over [-3, 3]; at each point the gradients are centred "
          "over the nets, and lag k is the mean over points of their correlation with the point k steps on "
          "(metrics.gradient_correlation; a step is 6/(points-1); far lag: `far_lag` steps). White noise gives ~0, brown noise stays near 1, "
          "a net linear at initialisation gives 1. BatchNorm normalises with the sweep's statistics. Mean ± std "
          "over seeds (independent sets of nets). Without normalisation, zero-bias ReLU nets and ResNets are "
          "positively homogeneous: on a scalar input their gradient takes one value per sign of x, so they cannot "
          "shatter along the sweep.")))

register_table(TableSpec(
    "ll_classifiers", "accuracy",
    "Deep nets without skip connections (Balduzzi et al. 2017, Sec. 5): validation accuracy of He-initialised ReLU, "
    "a BatchNorm ResNet and looks-linear CReLU classifiers of the same depth",
    decimals=3,
    note=("Fully connected nets on flattened, normalised pixels with `depth` hidden layers of `width` units, "
          "cross-entropy, Adam; the paper trains convolutional nets on CIFAR-10. Accuracy: top-1 on the validation "
          "split after the last epoch, BatchNorm with its running statistics; mean ± std over seeds.")))

register_table(TableSpec(
    "net2net", "accuracy",
    "Net2Net (Chen et al. 2016): students grown from a pretrained teacher vs the same architectures from random "
    "initialisation, at equal steps",
    columns=(("init_accuracy", "accuracy at step 0", 3), ("teacher_accuracy", "target (teacher)", 3),
             ("steps_to_target", "steps to target", 0), ("accuracy", "final accuracy", 3)),
    batchnorm=False,
    note=("Validation accuracy (top-1) of each student before its first step, the teacher's accuracy on the same "
          "images (the target), the optimiser steps after which the student first reached it (validated once per "
          "epoch, so a multiple of the steps per epoch; 0: it starts there; blank: never within the run) and the "
          "accuracy after the last step. Mean ± std over seeds; every label of a pair has the same architecture, "
          "data, steps and optimiser.")))

register_table(TableSpec(
    "net2net_gon", "recon_sse",
    "Net2WiderNet applied to a GON (ours; no paper has it): a pretrained GON decoder widened and trained on, vs the "
    "wide GON from random initialisation at equal total steps",
    columns=(("init_recon_sse", "SSE at step 0", 2), ("teacher_recon_sse", "target (teacher)", 2),
             ("steps_to_target", "steps to target", 0), ("total_steps", "total steps", 0),
             ("recon_sse", "final SSE", 2)),
    note=("Validation squared error per image (summed over pixels) of each GON before its first step, of the "
          "teacher (the pretrained decoder, 8 base filters) on the same images with the same batching, and after the "
          "last step; steps to target: the run's optimiser steps until its error first fell to the teacher's "
          "(validated once per epoch; 0: it starts there; blank: never within the run). Total steps: the run's "
          "plus, for a grown GON, the teacher's. Widening replicates filters and divides their outgoing weights "
          "(nets/net2net.py); noise: N(0, (0.01 x the layer's weight std)^2) added to break the replicas' symmetry. "
          "Mean ± std over seeds.")))
