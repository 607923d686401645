"""Profiles, experiments and the resolution of one run's spec.

A profile (config/<profile>.yaml) lists only what differs from the defaults below, each with its reason.
A run is named by (profile, experiment, method label, dataset, seed); its spec is the merge, later
winning, of: TrainConfig defaults, the method's Config defaults, the profile's ``defaults``, the profile's
``datasets[<dataset>]``, the experiment's ``set``, its ``method_set[<method>]``, the variant's ``set``
and finally ``--set key=value`` overrides. Every value is type-checked against its dataclass field.
"""
from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import ConfigError
from .methods import METHODS


@dataclass
class TrainConfig:
    """Run-level settings shared by every method."""

    epochs: int = 500  # GON paper, Table 1
    batch_size: int = 64  # GON reference code; training drops the last partial batch
    image_size: int = 32
    train_size: int | None = None  # None = the whole training split; else a fixed subset
    val_size: int | None = None  # None = the whole validation split; else a fixed subset
    val_every: int = 1  # epochs between validation losses in log.jsonl (curves of Figure 2)
    bn_protocol: Literal["train", "eval"] = "train"  # BatchNorm mode of the headline metric (both are reported)
    snapshot_seconds: list[float] = dataclasses.field(default_factory=list)  # Figure 8: reconstructions at these wall-clock times


RUN_IDENTITY = ("profile", "experiment", "method", "method_label", "dataset", "seed")


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def check_type(key: str, value: Any, hint: Any) -> Any:
    """Return ``value`` (ints widened to float where a float is expected) or raise ConfigError."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return check_type(key, value, option)
            except ConfigError:
                continue
        raise ConfigError(f"{key}={value!r} has the wrong type; expected {hint}")
    if origin is Literal:
        if value in typing.get_args(hint):
            return value
        raise ConfigError(f"{key}={value!r} is not allowed; valid choices: {', '.join(map(str, typing.get_args(hint)))}")
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}={value!r} has the wrong type; expected a list")
        (item,) = typing.get_args(hint) or (Any,)
        return [check_type(key, v, item) for v in value]
    if hint is Any:
        return value
    if hint is type(None):
        if value is None:
            return None
        raise ConfigError(f"{key}={value!r} is not None")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise ConfigError(f"{key}={value!r} has the wrong type; expected int")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"{key}={value!r} has the wrong type; expected {hint.__name__}")
    return value


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with the value read as a Python literal (a bare word stays a string)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not of the form key=value")
    key, raw = text.split("=", 1)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return key.strip(), value


# -- profiles ---------------------------------------------------------------------------------------
def schema() -> dict:
    return yaml.safe_load(resources.files("gonbench.schemas").joinpath("config.schema.yaml").read_text())


# Rule names of the Snakefile; each experiment also becomes a target rule named after it.
WORKFLOW_RULES = ("all", "prepare_data", "train", "evaluate", "aggregate", "figure", "pretrain")


def validate_profile(cfg: dict) -> dict:
    import jsonschema

    try:
        jsonschema.validate(cfg, schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(map(str, exc.absolute_path)) or "top level"
        raise ConfigError(f"config error at {where}: {exc.message}") from None
    for name, exp in cfg.get("experiments", {}).items():
        if name in WORKFLOW_RULES:
            raise ConfigError(f"experiment name {name!r} is taken by a workflow rule; "
                              f"choose a name other than {', '.join(WORKFLOW_RULES)}")
        for method in exp.get("methods", []):
            if method not in METHODS:
                raise ConfigError(f"experiment {name} names unknown method {method!r}; "
                                  f"valid choices: {', '.join(METHODS.names())}")
        for label, var in exp.get("variants", {}).items():
            if var["method"] not in METHODS:
                raise ConfigError(f"variant {label} of {name} names unknown method {var['method']!r}; "
                                  f"valid choices: {', '.join(METHODS.names())}")
    return cfg


def load_profile(profile: str | None = None, path: str | Path | None = None) -> dict:
    if path is None:
        if profile is None:
            raise ConfigError("give a profile name or a config file")
        path = Path("config") / f"{profile}.yaml"
    path = Path(path)
    if not path.is_file():
        available = sorted(p.stem for p in path.parent.glob("*.yaml")) if path.parent.is_dir() else []
        raise ConfigError(f"no config file {path}; available profiles: {', '.join(available) or 'none'}")
    cfg = yaml.safe_load(path.read_text()) or {}
    return validate_profile(cfg)


# -- runs -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunKey:
    experiment: str
    method_label: str
    dataset: str
    seed: int

    def path(self, results: str | Path, profile: str) -> Path:
        return Path(results) / profile / self.experiment / self.method_label / self.dataset / f"seed{self.seed}"


def experiment_variants(exp: dict) -> dict[str, tuple[str, dict]]:
    """Method label -> (registered method, extra settings) for one experiment."""
    labels: dict[str, tuple[str, dict]] = {m: (m, {}) for m in exp.get("methods", [])}
    for label, var in exp.get("variants", {}).items():
        labels[label] = (var["method"], dict(var.get("set", {})))
    for key, values in exp.get("grid", {}).items():
        base = labels
        labels = {}
        for label, (method, extra) in base.items():
            for value in values:
                labels[f"{label}-{key}{value}"] = (method, {**extra, key: value})
    return labels


def expand_runs(cfg: dict, experiments: list[str] | None = None) -> list[RunKey]:
    runs = []
    for name, exp in cfg.get("experiments", {}).items():
        if experiments is not None and name not in experiments:
            continue
        for label in experiment_variants(exp):
            for dataset in exp["datasets"]:
                for seed in exp.get("seeds", cfg.get("seeds", [0])):
                    runs.append(RunKey(name, label, dataset, seed))
    return runs


def resolve_spec(cfg: dict, *, experiment: str, method: str, dataset: str, seed: int,
                 overrides: list[str] | dict | None = None) -> dict:
    """The fully resolved, type-checked spec of one run (see the module docstring for the order)."""
    from .data import DATASETS

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
    hints = {**_hints(TrainConfig), **_hints(method_cls.Config)}
    values: dict[str, Any] = {f.name: (f.default if f.default is not dataclasses.MISSING else f.default_factory())
                              for f in dataclasses.fields(TrainConfig)}
    values.update({f.name: _default(f) for f in dataclasses.fields(method_cls.Config)})
    layers = [
        ("profile defaults", cfg.get("defaults", {})),
        (f"datasets.{dataset}", cfg.get("datasets", {}).get(dataset, {})),
        (f"experiments.{experiment}.set", exp.get("set", {})),
        (f"experiments.{experiment}.method_set.{base_method}", exp.get("method_set", {}).get(base_method, {})),
        (f"variant {method}", variant_set),
    ]
    if isinstance(overrides, dict):
        layers.append(("--set", overrides))
    else:
        layers.append(("--set", dict(parse_override(o) for o in overrides or [])))
    shared_layers = ("profile defaults", f"datasets.{dataset}", f"experiments.{experiment}.set")
    for where, layer in layers:
        for key, value in layer.items():
            if key not in hints:
                if where in shared_layers and key in known_keys():
                    continue  # a shared layer may set a key of another method (e.g. glo's fit_steps)
                raise ConfigError(f"unknown key {key!r} in {where} for method {base_method}; "
                                  f"valid keys: {', '.join(sorted(hints))}")
            values[key] = check_type(key, value, hints[key])
    values = {k: _expand_paths(v, cfg) for k, v in values.items()}
    spec = dict(values, profile=cfg.get("profile", "custom"), experiment=experiment, method=base_method,
                method_label=method, dataset=dataset, seed=int(seed))
    spec["config_hash"] = spec_hash(spec)
    return spec


def _expand_paths(value: Any, cfg: dict) -> Any:
    """``{results}`` and ``{profile}`` in string values name files of this profile (pretrained networks)."""
    if isinstance(value, str) and "{" in value:
        return value.format(results=cfg.get("results", "results"), profile=cfg.get("profile", "custom"))
    return value


def artifact_inputs(spec: dict) -> list[str]:
    """Files a run reads besides its data: every ``*_path`` value (the Snakefile makes them inputs)."""
    return [v for k, v in spec.items() if k.endswith("_path") and isinstance(v, str) and v]


def known_keys() -> set[str]:
    """Every key any registered method (or the loop) understands."""
    keys = set(_hints(TrainConfig))
    for name in METHODS.names():
        keys |= set(_hints(METHODS.get(name).Config))
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


NOT_HASHED = ("config_hash", "data_root", "data_cache")  # where data lives does not change the run


def spec_hash(spec: dict) -> str:
    body = {k: v for k, v in spec.items() if k not in NOT_HASHED}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
