"""gonbench: reproducible benchmarks of encoder-free and adversarial autoencoders."""
__version__ = "0.1.0"

from .runs import Run, load_run  # noqa: E402

__all__ = ["Run", "load_run", "__version__"]
