"""Tables, one module per paper family; importing this package registers them in ``outputs.TABLES``."""
from . import deepsim, generative, gon, piecewise, ppgn, superres, transfer  # noqa: F401  (registration on import)
from .spec import Row, TableSpec, Unit, base_metric, metric_columns, missing_metrics, register_table, table_rows

__all__ = ["Row", "TableSpec", "Unit", "base_metric", "metric_columns", "missing_metrics", "register_table",
           "table_rows"]
