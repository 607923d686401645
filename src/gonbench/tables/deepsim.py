"""DeePSiM's loss ablation (Dosovitskiy & Brox 2016): the four combinations of pixel, feature and adversarial
terms as rows, each scored by pixel error, sharpness and the KID of its reconstructions."""
from __future__ import annotations

from .spec import TableSpec, register_table

register_table(TableSpec(
    "deepsim", "sharpness_ratio",
    "DeePSiM loss ablation: an autoencoder trained with pixel, feature (comparator) and adversarial losses",
    columns=(("recon_sse", "pixel SSE", 2), ("sharpness_ratio", "sharpness ratio", 3), ("recon_kid", "KID", 1)),
    note=("Pixel SSE: summed squared error per validation image (lower is closer in pixels). Sharpness ratio: the "
          "reconstructions' mean gradient magnitude (forward differences, sqrt(dx² + dy²) averaged over pixels) over "
          "that of the validation images: 1 is as sharp as the data, below 1 blurred, above 1 over-sharpened. KID: "
          "unbiased cubic-polynomial MMD² between the judge's penultimate features of the validation reconstructions "
          "and of the validation images (mean of 10 subsets of half the set; lower is better), the judge being the "
          "generative table's independent classifier, resized to its 28×28 input. The feature loss compares the "
          "last convolution block of a comparator classifier pretrained here per dataset (`mnist_comparator`, "
          "`fashion_mnist_comparator`, a config field): the paper's AlexNet and Exemplar-CNN comparators need "
          "ImageNet / STL weights, which are not available offline. The comparator is not the judge (another seed "
          "and resolution, and other features). Every variant has the same encoder, decoder and discriminator "
          "widths; only the loss weights differ.")))
