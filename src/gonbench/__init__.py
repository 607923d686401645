"""gonbench: reproducible benchmarks of encoder-free and adversarial autoencoders."""
from importlib.metadata import version

from .runs import Run, load_run

__version__ = version("gonbench")

__all__ = ["Run", "load_run", "__version__"]
