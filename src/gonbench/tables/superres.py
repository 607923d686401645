"""The super-resolution table (Ravì et al. 2018): per model, SSIM, PSNR, GCF and the composite score of its
estimates against the HR images of the validation objects, beside the interpolation baseline."""
from __future__ import annotations

from .spec import TableSpec, register_table

STAND_IN = ("Stand-in data: COIL-20 (the paper's pCLE videos are not available), LR images simulated from it as a "
            "fibre bundle sees them: a jittered hexagonal grid of fibres, each averaging the HR image over its "
            "Voronoi cell, Gaussian noise on the fibre signals, Delaunay linear interpolation back to the pixel grid "
            "(data/fibres.py: about 24 fibres across the image). Validation: every fifth object, never seen in "
            "training.")

register_table(TableSpec(
    "superres", "ssim",
    "Super-resolution of simulated fibre-bundle images (Ravì et al. 2018): validation objects of the stand-in",
    columns=(("ssim", "SSIM", 4), ("psnr", "PSNR (dB)", 2), ("gcf", "GCF", 3), ("gcf_ratio", "GCF ratio", 4),
             ("composite", "composite", 4), ("step_seconds", "s / step", 4)),
    batchnorm=False,
    note=(STAND_IN + " Every network maps the linear LR image to an HR estimate on the same grid (scale 1; FSRCNN's "
          "last layer a stride-1 convolution) and adds it to its input, trained with L1 + (1 - SSIM) (SRGAN: plus "
          "its adversarial term). The baseline interpolates the same noisy fibre signals cubically (Clough-Tocher, "
          "the analogue of bicubic upsampling on irregular samples). SSIM: the suite's (11x11 Gaussian window); PSNR: "
          "mean over images, data range 1; GCF: global contrast factor (Matkovic et al. 2005) of the estimate, "
          "the HR images' being the target; GCF ratio: min/max of the estimate's and the HR image's GCF; "
          "composite = (SSIM + GCF ratio) / 2, a formula of ours (the paper's is not reproduced). Higher is better "
          "in every column but s / step.")))
