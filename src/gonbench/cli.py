"""``gonbench train|evaluate|prepare|pretrain|aggregate|figures|golden|list|check|export|import``: what the
Snakefile rules call, and the sharing of finished runs as bundles.

Errors a user can fix (unknown names, bad values, missing or corrupt files, a diverged run) end the
command with a one-line message and exit status 2 (1 for a diverged run), never a traceback. An unexpected
exception prints one line and the path of a log file that holds its traceback.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from pathlib import Path

import torch

from . import paths
from .bundles import export_bundle, import_bundle
from .cell import cell_specs, run_cell
from .config import check_grid, experiment_seeds, experiment_variants, load_profile
from .data import DATASETS, load_prepared, resolve_data_root
from .errors import ConfigError, GonbenchError, TrainingDiverged
from .evaluate import HEADLINE, evaluate_run
from .golden import write_goldens
from .methods import METHODS, DataInfo, build_method, count_parameters
from .paths import Layout, RunKey
from .plan import plan
from .pretrain import pretrain, pretrain_config, pretrained_path
from .publish import publish
from .reports import build_outputs, check_outputs
from .rundir import is_trained, note, recorded_spec
from .runtime import select_device
from .train import train_run


def _threads(n: int | None) -> None:
    if n:
        torch.set_num_threads(n)
        if torch.get_num_interop_threads() != 1:
            torch.set_num_interop_threads(1)


def _profile_cfg(args) -> dict:
    """The profile, with the folders given on the command line (what Snakemake's ``--config`` set) in place
    of its own, so every rule reads and writes where the DAG does."""
    cfg = load_profile(args.profile, args.config)
    for key in ("results", "reports", "data_root"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    return cfg


def _source(args) -> str:
    return args.config or str(paths.profile_file(args.profile))


def cmd_prepare(args) -> None:
    cfg = _profile_cfg(args)
    size = cfg.get("defaults", {}).get("image_size", 32) if args.image_size is None else args.image_size
    cache = Path(args.out) if args.out else Layout.of(cfg).data_cache(args.dataset, size)
    splits = load_prepared(args.dataset, resolve_data_root(cfg.get("data_root")), size, cache)
    print(f"{args.dataset}: {len(splits.train)} train / {len(splits.val)} validation images at {size}px -> {cache}")


def _overrides(args, out: Path | None) -> list[str]:
    """``--set`` values, and ``--threads`` as ``threads=N`` unless the run directory already records another
    thread count: a run always trains with the threads it started with (they change the numbers)."""
    overrides = list(args.set)
    if args.threads is None:
        return overrides
    recorded = recorded_spec(out) if out is not None and out.is_dir() else None
    if recorded is not None and recorded.get("threads", args.threads) != args.threads:
        note(f"{out} was started with threads={recorded['threads']}; it continues with them, not --threads "
             f"{args.threads} (the thread count changes the results)")
        return overrides + [f"threads={recorded['threads']}"]
    return overrides + [f"threads={args.threads}"]


def cmd_train(args) -> None:
    """With --seed: one run (into --out or its place in the results folder). Without: every seed of the cell,
    each trained and evaluated, then the cell's marker (what the DAG's train job runs)."""
    cfg = _profile_cfg(args)
    layout = Layout.of(cfg)
    device = select_device(args.device)
    try:
        _train(args, cfg, layout, device)
    except ConfigError as exc:  # name the profile, as the DAG does
        source = _source(args)
        raise ConfigError(str(exc) if str(exc).startswith(source) else f"{source}: {exc}") from None


def experiment_for(cfg: dict, method: str, experiment: str | None) -> str:
    """The experiment a ``train`` command means: the one given, or else the only one that lists ``method``
    (a run always records a real experiment, whose settings it took)."""
    if experiment is not None:
        return experiment
    listing = [e for e, exp in cfg["experiments"].items() if method in experiment_variants(exp)]
    if len(listing) == 1:
        note(f"--experiment not given: using {listing[0]}, the only experiment of profile {cfg['profile']} "
             f"that lists {method}")
        return listing[0]
    if listing:
        raise ConfigError(f"{method} is in experiments {', '.join(listing)} of profile {cfg['profile']}; give "
                          f"--experiment (their settings differ)")
    raise ConfigError(f"no experiment of profile {cfg['profile']} lists {method}; give --experiment to take the "
                      f"settings of one of: {', '.join(cfg['experiments'])}")


def _train(args, cfg: dict, layout: Layout, device: torch.device) -> None:
    args.experiment = experiment_for(cfg, args.method, args.experiment)
    if args.seed is None:
        if args.out:
            raise ConfigError("--out names one run directory: give --seed too (without --seed every seed of the "
                              "cell is trained in its place under the results folder)")
        specs = [cell_specs(cfg, args.experiment, args.method, args.dataset, [s], _overrides(
            args, layout.run(RunKey(args.experiment, args.method, args.dataset, s))))[0]
            for s in experiment_seeds(cfg, args.experiment)]
        summary = run_cell(cfg, specs, device=device, progress=not args.no_progress)
        for seed, row in summary.items():
            print(f"{row['run_dir']}: {({k: round(v, 4) for k, v in row.items() if k in HEADLINE})}")
        return
    out = Path(args.out) if args.out else layout.run(RunKey(args.experiment, args.method, args.dataset, args.seed))
    (spec,) = cell_specs(cfg, args.experiment, args.method, args.dataset, [args.seed], _overrides(args, out))
    if is_trained(out, spec):
        print(f"{out}: already trained ({spec['epochs']} epochs), nothing to do")
        return
    splits = load_prepared(args.dataset, resolve_data_root(cfg.get("data_root")), spec["image_size"],
                           Path(spec["data_cache"]))
    train_run(spec, out, splits, device=device, progress=not args.no_progress,
              superseded=None if args.out else layout.superseded())
    print(f"{out}: trained {spec['epochs']} epochs")


def cmd_pretrain(args) -> None:
    cfg = _profile_cfg(args)
    pc = pretrain_config(cfg, args.network)
    cache = Layout.of(cfg).data_cache(pc.dataset, pc.image_size)
    splits = load_prepared(pc.dataset, resolve_data_root(cfg.get("data_root")), pc.image_size, cache)
    out = Path(args.out) if args.out else pretrained_path(cfg, args.network)
    summary = pretrain(args.network, pc, splits, out, select_device(args.device))
    scores = ", ".join(f"{k.removeprefix('test_').replace('_', ' ')} {v:.4f}" for k, v in summary.items()
                       if k.startswith("test_") and k != "test_images")
    print(f"{out}: {args.network}, test {scores} "
          f"({summary['train_images']} training images, {pc.epochs} epochs, {summary['train_seconds']:.0f} s)")


def cmd_evaluate(args) -> None:
    for run_dir in args.run_dirs:
        result = evaluate_run(run_dir, device=str(select_device(args.device)))
        headline = {k: round(v, 4) for k, v in result.items() if k in HEADLINE}
        print(f"{run_dir}: {headline}")


def cmd_aggregate(args) -> None:
    for path in build_outputs(_profile_cfg(args), only=args.table, kind="table"):
        print(path)


def cmd_figures(args) -> None:
    for path in build_outputs(_profile_cfg(args), only=args.figure, kind="figure"):
        print(path)


def cmd_plan(args) -> None:
    print(plan(_profile_cfg(args), select_device(args.device), args.devices, refresh=args.refresh))


def cmd_publish(args) -> None:
    for path in publish(_profile_cfg(args)):
        print(path)


def cmd_export(args) -> None:
    cfg = _profile_cfg(args)
    done = export_bundle(cfg, Path(args.out) if args.out else None, experiments=args.experiment,
                         methods=args.method, datasets=args.dataset, seeds=args.seed,
                         checkpoints=args.with_checkpoints, tables_only=args.tables_only,
                         progress=not args.no_progress)
    if done.skipped:
        note(f"{done.skipped} selected runs are not finished and evaluated under profile {cfg['profile']}; "
             f"left out")
    print(f"{done.path}: bundle {done.bundle_id}, {done.runs} runs of profile {cfg['profile']}, "
          f"{done.size / 2**20:.2f} MB{' with checkpoints' if args.with_checkpoints else ''}")


def cmd_import(args) -> int:
    """Exit status 0 when every run of the bundle is placed or already here, 1 when some were not placed."""
    cfg = _profile_cfg(args)
    done = import_bundle(cfg, Path(args.bundle), force=args.force, replace=args.replace)
    for line in done.not_placed:
        note(line)
    print(f"bundle {done.bundle_id}: placed {len(done.placed)} runs under {Layout.of(cfg).results}, "
          f"{len(done.left)} already here (left as they were{'' if args.replace else '; --replace replaces them'}), "
          f"{len(done.not_placed)} not placed; {len(done.cells)} cells complete")
    return 1 if done.not_placed else 0


def cmd_golden(args) -> None:
    cfg = _profile_cfg(args)
    experiments = args.experiment or [n for n, e in cfg["experiments"].items() if e.get("golden", False)]
    for path in write_goldens(cfg, experiments):
        print(path)


def cmd_list(args) -> None:
    print("methods (parameters for 1 channel, 32x32 unless fixed, default config; GLO adds nz per training image):")
    for name in METHODS.names():
        cls = METHODS.get(name)
        info = DataInfo(channels=cls.channels or 1, image_size=cls.image_size or 32, classes=10, train_size=1)
        summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"  {name:<22} {count_parameters(build_method(name, info)):>10,}  {summary}")
    print("datasets:")
    for name in DATASETS.names():
        d = DATASETS.get(name)
        print(f"  {name:<22} channels={d.channels} classes={d.classes}{'  (bundled, offline)' if d.offline else ''}")
    for profile_path in sorted(Path(paths.PROFILES_DIR).glob("*.yaml")):
        try:
            cfg = load_profile(path=profile_path)
        except GonbenchError as exc:  # a broken profile is named, and the others still listed
            print(f"experiments in {profile_path}: not readable ({exc})")
            continue
        print(f"experiments in {profile_path}:")
        for name, exp in cfg.get("experiments", {}).items():
            print(f"  {name:<22} {exp.get('description', '')}")


def cmd_check(args) -> None:
    """Validate a profile, resolve every run's spec and check its outputs, without training anything."""
    cfg = _profile_cfg(args)
    specs = check_grid(cfg, _source(args))
    check_outputs(cfg, _source(args))
    print(f"{cfg['profile']}: {len(specs)} runs in {len(cfg['experiments'])} experiments resolve cleanly")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gonbench", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    def profile_args(sp):
        sp.add_argument("--profile", default=paths.DEFAULT_PROFILE,
                        help=f"config/<profile>.yaml (default: {paths.DEFAULT_PROFILE}, as for snakemake)")
        sp.add_argument("--config", default=None, help="explicit config file (overrides --profile's path)")
        sp.add_argument("--results", default=None, help="results folder (default: the profile's `results`)")
        sp.add_argument("--reports", default=None, help="reports folder (default: the profile's `reports`)")
        sp.add_argument("--data-root", default=None, help="data folder (default: the profile's `data_root`; "
                                                          "GONBENCH_DATA still wins)")

    sp = sub.add_parser("prepare", help="find/download, verify and preprocess one dataset")
    profile_args(sp)
    sp.add_argument("--dataset", required=True)
    sp.add_argument("--image-size", type=int, default=None)
    sp.add_argument("--out", default=None, help="cache file (default results/<profile>/data/<dataset>-<size>px.pt)")
    sp.set_defaults(func=cmd_prepare)

    sp = sub.add_parser("train", help="train and evaluate every seed of a cell, or train one run (--seed); "
                                      "an interrupted run resumes, a finished one is a no-op")
    profile_args(sp)
    sp.add_argument("--experiment", default=None,
                    help="whose settings the run takes and where it goes; optional when exactly one experiment "
                         "of the profile lists --method (that one is used, and said), required otherwise")
    sp.add_argument("--method", required=True, help="a method label of the experiment, or a registered method")
    sp.add_argument("--dataset", required=True)
    sp.add_argument("--seed", type=int, default=None, help="one run (default: every seed of the experiment)")
    sp.add_argument("--out", default=None, help="run directory of --seed (default results/<profile>/<experiment>/"
                                                "<method>/<dataset>/seed<k>)")
    sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
    sp.add_argument("--device", default="auto", help="auto (a free GPU if any, else the CPU), cpu, cuda, cuda:<i>")
    sp.add_argument("--threads", type=int, default=None, help="CPU threads (part of the spec: they change results)")
    sp.add_argument("--no-progress", action="store_true")
    sp.set_defaults(func=cmd_train)

    sp = sub.add_parser("pretrain", help="train a network that runs reuse frozen (PPGN's encoder, the sample judge)")
    profile_args(sp)
    sp.add_argument("--network", required=True, help="ppgn_encoder or mnist_classifier")
    sp.add_argument("--out", default=None, help="file (default results/<profile>/pretrained/<network>.pt)")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--threads", type=int, default=None)
    sp.set_defaults(func=cmd_pretrain)

    sp = sub.add_parser("evaluate", help="compute a run's metrics.json")
    sp.add_argument("run_dirs", nargs="+")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--threads", type=int, default=None)
    sp.set_defaults(func=cmd_evaluate)

    sp = sub.add_parser("aggregate", help="build the tables of a profile from its runs")
    profile_args(sp)
    sp.add_argument("--table", action="append", default=None)
    sp.set_defaults(func=cmd_aggregate)

    sp = sub.add_parser("figures", help="draw the figures of a profile from its runs")
    profile_args(sp)
    sp.add_argument("--figure", action="append", default=None)
    sp.set_defaults(func=cmd_figures)

    sp = sub.add_parser("plan", help="estimate a profile's device-hours, disk and wall time from a short "
                                     "calibration on this device (cached in the results folder)")
    profile_args(sp)
    sp.add_argument("--device", default="auto")
    sp.add_argument("--devices", type=int, nargs="+", default=[1, 4, 8], help="device or slot counts for wall times")
    sp.add_argument("--refresh", action="store_true", help="recalibrate instead of reading the cache")
    sp.add_argument("--threads", type=int, default=None, help="CPU threads of the calibration")
    sp.set_defaults(func=cmd_plan)

    sp = sub.add_parser("publish", help="copy the profile's reports to published/<profile>/ and refresh README's tables")
    profile_args(sp)
    sp.set_defaults(func=cmd_publish)

    sp = sub.add_parser("golden", help="write tests/regression/<profile>_<experiment>.json from finished runs")
    profile_args(sp)
    sp.add_argument("--experiment", action="append", default=None,
                    help="experiment(s) to record (default: those marked golden: true in the profile)")
    sp.set_defaults(func=cmd_golden)

    sp = sub.add_parser("export", help="write finished runs of a profile (a selection of them) to one bundle "
                                       "that another checkout imports instead of training")
    profile_args(sp)
    sp.add_argument("--experiment", action="append", default=None, help="only these experiments (repeatable)")
    sp.add_argument("--method", action="append", default=None, help="only these method labels (repeatable)")
    sp.add_argument("--dataset", action="append", default=None, help="only these datasets (repeatable)")
    sp.add_argument("--seed", action="append", type=int, default=None, help="only these seeds (repeatable)")
    sp.add_argument("--with-checkpoints", action="store_true", help="also the last checkpoint of each run")
    sp.add_argument("--tables-only", action="store_true",
                    help="leave out image grids and tensor files (tables and curves still regenerate)")
    sp.add_argument("--out", default=None, help=f"archive (default <results>/bundles/<profile>{paths.BUNDLE_SUFFIX})")
    sp.add_argument("--no-progress", action="store_true")
    sp.set_defaults(func=cmd_export)

    sp = sub.add_parser("import", help="verify a bundle and place its runs under the results folder")
    profile_args(sp)
    sp.add_argument("bundle", help="a file written by gonbench export")
    sp.add_argument("--force", action="store_true",
                    help="also place runs whose spec differs from this profile's, flagged as foreign")
    sp.add_argument("--replace", action="store_true", help="replace runs already here with the same spec hash "
                                                           "(the old ones are moved to superseded/)")
    sp.set_defaults(func=cmd_import)

    sp = sub.add_parser("list", help="registered methods, datasets and experiments")
    sp.set_defaults(func=cmd_list)

    sp = sub.add_parser("check", help="validate a profile and resolve every run spec")
    profile_args(sp)
    sp.set_defaults(func=cmd_check)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "threads", None) is not None and args.threads < 1:
        print(f"gonbench: error: --threads={args.threads} is out of range; valid: 1 <= value", file=sys.stderr)
        return 2
    _threads(getattr(args, "threads", None))
    try:
        status = args.func(args) or 0
    except TrainingDiverged as exc:
        print(f"gonbench: error: {exc}", file=sys.stderr)
        return 1
    except GonbenchError as exc:
        print(f"gonbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gonbench: interrupted; rerun the same command to resume from the last completed epoch", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an unforeseen fault: one line here, the traceback in a file
        log = Path(tempfile.mkstemp(prefix="gonbench-error-", suffix=".log")[1])
        log.write_text(traceback.format_exc())
        print(f"gonbench: internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
              f"(traceback in {log})", file=sys.stderr)
        return 3
    return status


if __name__ == "__main__":
    sys.exit(main())
