"""Which report files a profile produces: every table or figure named in an experiment's ``outputs``."""
from __future__ import annotations

from pathlib import Path

from .errors import ConfigError


def output_kind(name: str) -> str:
    from .aggregate import TABLES
    from .figures import FIGURES

    if name in TABLES:
        return "table"
    if name in FIGURES:
        return "figure"
    raise ConfigError(f"unknown output {name!r}; valid choices: {', '.join(sorted(set(TABLES) | set(FIGURES)))}")


def table_names() -> list[str]:
    from .aggregate import TABLES

    return sorted(TABLES)


def figure_names() -> list[str]:
    from .figures import FIGURES

    return sorted(FIGURES)


def experiment_of_output(cfg: dict, name: str) -> str:
    for exp_name, exp in cfg["experiments"].items():
        if name in exp.get("outputs", []):
            return exp_name
    raise ConfigError(f"no experiment of profile {cfg['profile']} lists output {name!r}")


def report_files(cfg: dict, experiment: str | None = None) -> list[str]:
    """Every table/figure file of the profile, or of one experiment."""
    root = Path(cfg.get("reports", "reports")) / cfg["profile"]
    files = []
    for exp_name, exp in cfg["experiments"].items():
        if experiment not in (None, exp_name):
            continue
        for name in exp.get("outputs", []):
            if output_kind(name) == "table":
                files += [str(root / f"{name}{ext}") for ext in (".md", ".tex", ".csv")]
            else:
                files += [str(root / "figures" / f"{name}{ext}") for ext in (".png", ".pdf", ".csv")]
    return files
