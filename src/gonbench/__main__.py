"""``python -m gonbench`` = the ``gonbench`` command."""
import sys

from .cli import main

sys.exit(main())
