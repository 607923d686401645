"""Profiles, experiments and the resolution of one run's spec.

A profile (config/<profile>.yaml) lists only what differs from the defaults below, each with its reason.
A run is named by (profile, experiment, method label, dataset, seed); its spec is the merge, later
winning, of: TrainConfig defaults, the method's Config defaults, the profile's ``threads`` and ``defaults``,
the profile's ``datasets[<dataset>]``, the experiment's ``set``, its ``dataset_set[<dataset>]`` (a dataset's own
networks, e.g. its judge), its ``method_set[<method>]``, the variant's
``set`` and finally ``--set key=value`` overrides. Every value is type- and range-checked against its
dataclass field, so a bad value fails before any file is written.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from .data import DATASETS
from .errors import ConfigError
from .methods import METHODS
from .paths import DEFAULT_PROFILE, Layout, RunKey, profile_file
from .pretrain import PRETRAINED, pretrain_config
from .typecheck import NonNegativeInt, PositiveInt, check_type, parse_override, type_hints

__all__ = ["TrainConfig", "RunKey", "load_profile", "validate_profile", "expand_runs", "resolve_spec",
           "experiment_labels", "experiment_variants", "Label", "parse_override", "spec_hash", "spec_differences"]


@dataclass
class TrainConfig:
    """Run-level settings shared by every method."""

    epochs: NonNegativeInt = 500  # GON paper, Table 1. 0: no training step, the run is its initialisation
    batch_size: PositiveInt = 64  # GON reference code; training drops the last partial batch
    image_size: PositiveInt = 32
    train_size: PositiveInt | None = None  # None = the whole training split; else a fixed subset
    val_size: PositiveInt | None = None  # None = the whole validation split; else a fixed subset
    val_every: PositiveInt = 1  # epochs between validation losses in log.jsonl (curves of Figure 2)
    bn_protocol: Literal["train", "eval"] = "train"  # BatchNorm mode of the headline metric (both are reported)
    snapshot_seconds: list[float] = dataclasses.field(default_factory=list)  # Figure 8: reconstructions at these wall-clock times
    threads: PositiveInt = 1  # CPU threads of the run's process: results depend on it (summation order)
    judge: str = ""  # a pretrained classifier (gonbench pretrain) scoring the run's samples; "" = no sample scores
    sample_count: PositiveInt = 1000  # class-free samples the judge scores (KID, confidence), where a method samples


# Config fields of every run that name a pretrained network (besides those its method lists in network_fields)
RUN_NETWORK_FIELDS = ("judge",)


def network_fields(method_cls) -> tuple[str, ...]:
    """Every config field of a run of ``method_cls`` that names a pretrained network."""
    return RUN_NETWORK_FIELDS + tuple(f for f in method_cls.network_fields if f not in RUN_NETWORK_FIELDS)


# Rule names of the Snakefile; each experiment also becomes a target rule named after it.
WORKFLOW_RULES = ("all", "tables", "prepare_data", "train", "aggregate", "figure", "pretrain", "publish")

# Keys of a spec that say where things are, not what the run is: they stay out of the hash.
NOT_HASHED = ("config_hash", "data_root", "data_cache", "network_files")


# -- profiles ---------------------------------------------------------------------------------------
def schema() -> dict:
    return yaml.safe_load(resources.files("gonbench.schemas").joinpath("config.schema.yaml").read_text())


def validate_profile(cfg: dict, source: str = "the profile") -> dict:
    """Schema, experiment names and registry names; every message starts with ``source`` (the file)."""
    try:
        jsonschema.validate(cfg, schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(map(str, exc.absolute_path)) or "top level"
        raise ConfigError(f"{source}: config error at {where}: {exc.message}") from None
    for name, exp in cfg.get("experiments", {}).items():
        if name in WORKFLOW_RULES:
            raise ConfigError(f"{source}: experiment name {name!r} is taken by a workflow rule; "
                              f"choose a name other than {', '.join(WORKFLOW_RULES)}")
        for method in exp.get("methods", []):
            if method not in METHODS:
                raise ConfigError(f"{source}: experiment {name} names unknown method {method!r}; "
                                  f"valid choices: {', '.join(METHODS.names())}")
        for label, var in exp.get("variants", {}).items():
            if var["method"] not in METHODS:
                raise ConfigError(f"{source}: variant {label} of experiment {name} names unknown method "
                                  f"{var['method']!r}; valid choices: {', '.join(METHODS.names())}")
        _check_rows(exp, name, source)
        unknown = [d for d in exp.get("dataset_set", {}) if d not in exp["datasets"]]
        if unknown:
            raise ConfigError(f"{source}: experiment {name}: dataset_set names {', '.join(unknown)}, not a dataset of "
                              f"this experiment; valid choices: {', '.join(exp['datasets'])}")
        labels = experiment_labels(exp)
        names = set(labels) | {lab.base for lab in labels.values()} | {lab.method for lab in labels.values()}
        for key, subset in exp.get("method_datasets", {}).items():
            if key not in names:
                raise ConfigError(f"{source}: experiment {name}: method_datasets names {key!r}, not a method or label "
                                  f"of this experiment; valid choices: {', '.join(sorted(names))}")
            extra = [d for d in subset if d not in exp["datasets"]]
            if extra:
                raise ConfigError(f"{source}: experiment {name}: method_datasets.{key} names {', '.join(extra)}, not "
                                  f"a dataset of this experiment; valid choices: {', '.join(exp['datasets'])}")
        for dataset in exp["datasets"]:
            if dataset not in DATASETS:
                raise ConfigError(f"{source}: experiment {name} names unknown dataset {dataset!r}; "
                                  f"valid choices: {', '.join(DATASETS.names())}")
    return cfg


def _check_rows(exp: dict, name: str, source: str) -> None:
    """The ``rows`` settings of an experiment name its own labels and grid keys."""
    rows = exp.get("rows", {})
    labels = experiment_labels(exp)
    for field_name in ("titles", "groups"):
        unknown = sorted(set(rows.get(field_name, {})) - set(labels))
        if unknown:
            raise ConfigError(f"{source}: experiment {name}: rows.{field_name} names {', '.join(unknown)}, not a "
                              f"label of this experiment; valid labels: {', '.join(labels)}")
    key = rows.get("group_by")
    if key is not None and key not in exp.get("grid", {}):
        raise ConfigError(f"{source}: experiment {name}: rows.group_by={key!r} is not a grid key of this experiment; "
                          f"valid choices: {', '.join(exp.get('grid', {})) or 'none (the experiment has no grid)'}")


def read_yaml(path: Path) -> Any:
    """YAML from a file; a syntax error names the file, line and column."""
    try:
        return yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: YAML syntax error: {exc.problem or exc.context}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def load_profile(profile: str | None = DEFAULT_PROFILE, path: str | Path | None = None) -> dict:
    path = Path(path) if path is not None else profile_file(profile or DEFAULT_PROFILE)
    if not path.is_file():
        available = sorted(p.stem for p in path.parent.glob("*.yaml")) if path.parent.is_dir() else []
        raise ConfigError(f"no config file {path}; available profiles: {', '.join(available) or 'none'}")
    cfg = read_yaml(path) or {}
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path}: a profile is a mapping of keys (profile, experiments, ...), got {type(cfg).__name__}")
    return validate_profile(cfg, str(path))


def check_grid(cfg: dict, source: str = "the profile") -> list[dict]:
    """Resolve every run of the profile: one bad value anywhere fails the whole plan, naming the file,
    the experiment and the key (nothing is silently dropped from the grid)."""
    specs = []
    for key in expand_runs(cfg):
        try:
            specs.append(resolve_spec(cfg, experiment=key.experiment, method=key.method_label,
                                      dataset=key.dataset, seed=key.seed))
        except ConfigError as exc:
            raise ConfigError(f"{source}: experiment {key.experiment}, {key.method_label} on {key.dataset}: {exc}") from None
    return specs


# -- the grid ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Label:
    """One method label of an experiment: the registered method, its extra settings, and the values of
    the experiment's ``grid`` keys that made it (empty for a method or variant named directly)."""

    method: str
    settings: dict
    base: str  # the method or variant label the grid expanded
    grid: dict


def experiment_labels(exp: dict) -> dict[str, Label]:
    """Method label -> Label, in the order the profile lists them (methods, then variants, each crossed
    with the grid's values in order)."""
    labels = {m: Label(m, {}, m, {}) for m in exp.get("methods", [])}
    for name, var in exp.get("variants", {}).items():
        labels[name] = Label(var["method"], dict(var.get("set", {})), name, {})
    for key, values in exp.get("grid", {}).items():
        labels = {f"{label}-{key}{value}": Label(lab.method, {**lab.settings, key: value}, lab.base,
                                                  {**lab.grid, key: value})
                  for label, lab in labels.items() for value in values}
    return labels


def experiment_variants(exp: dict) -> dict[str, tuple[str, dict]]:
    """Method label -> (registered method, extra settings) for one experiment."""
    return {label: (lab.method, lab.settings) for label, lab in experiment_labels(exp).items()}


def label_datasets(exp: dict, label: str) -> list[str]:
    """The datasets a label runs on: the experiment's, or the subset ``method_datasets`` gives it (by label, or
    by the method or variant its grid expanded), for a method that applies to some datasets only."""
    only = exp.get("method_datasets", {})
    lab = experiment_labels(exp)[label]
    chosen = only.get(label, only.get(lab.base, only.get(lab.method)))
    return list(exp["datasets"]) if chosen is None else [d for d in exp["datasets"] if d in chosen]


def experiment_seeds(cfg: dict, experiment: str) -> list[int]:
    experiments = cfg.get("experiments", {})
    if experiment not in experiments:
        raise ConfigError(f"unknown experiment {experiment!r}; valid choices: {', '.join(sorted(experiments)) or 'none'}")
    return list(experiments[experiment].get("seeds", cfg.get("seeds", [0])))


def expand_runs(cfg: dict, experiments: list[str] | None = None) -> list[RunKey]:
    runs = []
    for name, exp in cfg.get("experiments", {}).items():
        if experiments is not None and name not in experiments:
            continue
        for label in experiment_variants(exp):
            for dataset in label_datasets(exp, label):
                for seed in experiment_seeds(cfg, name):
                    runs.append(RunKey(name, label, dataset, seed))
    return runs


# -- one run's spec ---------------------------------------------------------------------------------
def resolve_spec(cfg: dict, *, experiment: str, method: str, dataset: str, seed: int,
                 overrides: list[str] | dict | None = None) -> dict:
    """The fully resolved, type-checked spec of one run (see the module docstring for the order)."""
    experiments = cfg.get("experiments", {})
    if experiment not in experiments:
        raise ConfigError(f"unknown experiment {experiment!r}; valid choices: {', '.join(sorted(experiments)) or 'none'}")
    exp = experiments[experiment]
    variants = experiment_variants(exp)
    if method not in variants and method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; valid choices: {', '.join(sorted(set(variants) | set(METHODS.names())))}")
    base_method, variant_set = variants.get(method, (method, {}))
    DATASETS.get(dataset)  # raises with the valid choices
    method_cls = METHODS.get(base_method)
    hints = {**type_hints(TrainConfig), **type_hints(method_cls.Config)}
    values: dict[str, Any] = {f.name: _default(f) for f in dataclasses.fields(TrainConfig)}
    values.update({f.name: _default(f) for f in dataclasses.fields(method_cls.Config)})
    layers = [
        ("profile threads", {"threads": cfg["threads"]} if "threads" in cfg else {}),
        ("profile defaults", cfg.get("defaults", {})),
        (f"datasets.{dataset}", cfg.get("datasets", {}).get(dataset, {})),
        (f"experiments.{experiment}.set", exp.get("set", {})),
        (f"experiments.{experiment}.dataset_set.{dataset}", exp.get("dataset_set", {}).get(dataset, {})),
        (f"experiments.{experiment}.method_set.{base_method}", exp.get("method_set", {}).get(base_method, {})),
        (f"variant {method}", variant_set),
        ("--set", overrides if isinstance(overrides, dict) else dict(parse_override(o) for o in overrides or [])),
    ]
    shared_layers = ("profile defaults", f"datasets.{dataset}", f"experiments.{experiment}.set",
                     f"experiments.{experiment}.dataset_set.{dataset}")
    for where, layer in layers:
        for key, value in layer.items():
            if key not in hints:
                if where in shared_layers and key in known_keys():
                    continue  # a shared layer may set a key of another method (e.g. glo's fit_max_steps)
                raise ConfigError(f"unknown key {key!r} in {where} for method {base_method}; "
                                  f"valid keys: {', '.join(sorted(hints))}")
            try:
                values[key] = check_type(key, value, hints[key])
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None
    spec = dict(values, profile=cfg.get("profile", "custom"), experiment=experiment, method=base_method,
                method_label=method, dataset=dataset, seed=int(seed))
    _check_consistency(spec, method_cls)
    spec.update(_networks(cfg, spec, method_cls))
    spec["config_hash"] = spec_hash(spec)
    return spec


def _check_consistency(spec: dict, method_cls) -> None:
    """Checks across keys that a single field's type cannot express."""
    if spec["train_size"] is not None and spec["batch_size"] > spec["train_size"]:
        raise ConfigError(f"batch_size={spec['batch_size']} is larger than train_size={spec['train_size']}: with "
                          f"drop_last an epoch would take no optimiser step; valid: batch_size <= train_size")
    if method_cls.image_size is not None and spec["image_size"] != method_cls.image_size:
        raise ConfigError(f"image_size={spec['image_size']} does not fit {spec['method']}, whose networks are built "
                          f"for {method_cls.image_size}x{method_cls.image_size}; valid: image_size: {method_cls.image_size}")


def _networks(cfg: dict, spec: dict, method_cls) -> dict:
    """Pretrained networks a run uses: each named network's settings hash is part of the run (retraining the
    network with other settings changes the run), its file is where this profile keeps it (not hashed)."""
    configs, files = {}, {}
    for field_name in network_fields(method_cls):
        name = spec[field_name]
        if not name:
            continue
        if name not in PRETRAINED:
            raise ConfigError(f"{field_name}={name!r} is not a pretrained network; valid choices: "
                              f"{', '.join(PRETRAINED.names())}, or \"\" for none")
        configs[field_name] = hash_of(dataclasses.asdict(pretrain_config(cfg, name)))
        files[field_name] = str(Layout.of(cfg).pretrained(name))
    return {"network_configs": configs, "network_files": files} if configs else {}


def known_keys() -> set[str]:
    """Every key any registered method (or the loop) understands."""
    keys = set(type_hints(TrainConfig))
    for name in METHODS.names():
        keys |= set(type_hints(METHODS.get(name).Config))
    return keys


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def _fields_of(spec: dict) -> list[dataclasses.Field]:
    return list(dataclasses.fields(TrainConfig)) + list(dataclasses.fields(METHODS.get(spec["method"]).Config))


def method_values(spec: dict) -> dict:
    """The subset of a spec that configures the method itself. A field added to a method after a run was
    made is absent from that run's config.json; the run was made with the behaviour of its default."""
    return {f.name: spec.get(f.name, _default(f)) for f in dataclasses.fields(METHODS.get(spec["method"]).Config)}


def train_config(spec: dict) -> TrainConfig:
    return TrainConfig(**{f.name: spec.get(f.name, _default(f)) for f in dataclasses.fields(TrainConfig)})


def spec_differences(old: dict, new: dict) -> list[str]:
    """Keys in which two specs of the same run differ. A key that a run directory lacks counts as equal
    when the new spec gives it its default: the field did not exist yet and its default is the old behaviour."""
    defaults = {f.name: _default(f) for f in _fields_of(new)}
    keys = (set(old) | set(new)) - set(NOT_HASHED)
    return sorted(k for k in keys if old.get(k, defaults.get(k)) != new.get(k, defaults.get(k)))


def hash_of(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def spec_hash(spec: dict) -> str:
    return hash_of({k: v for k, v in spec.items() if k not in NOT_HASHED})
