"""``gonbench train|evaluate|prepare|pretrain|aggregate|figures|list|check``: what the Snakefile rules call.

Errors a user can fix (unknown names, bad overrides, missing or corrupt data, a diverged run) end the
command with a one-line message and exit status 2 (1 for a diverged run), never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch


def _threads(n: int | None) -> None:
    if n:
        torch.set_num_threads(n)
        torch.set_num_interop_threads(1) if torch.get_num_interop_threads() != 1 else None


def _profile_cfg(args):
    """The profile, with the folders given on the command line (what Snakemake's ``--config`` set) in place
    of its own, so every rule reads and writes where the DAG does."""
    from .config import load_profile

    cfg = load_profile(args.profile, args.config)
    for key in ("results", "reports", "data_root"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    return cfg


def _results_profile_dir(cfg: dict) -> Path:
    return Path(cfg.get("results", "results")) / cfg["profile"]


def cmd_prepare(args) -> None:
    from .data import load_prepared, resolve_data_root
    from .runs import data_cache_path

    cfg = _profile_cfg(args)
    size = cfg.get("defaults", {}).get("image_size", 32) if args.image_size is None else args.image_size
    cache = Path(args.out) if args.out else data_cache_path(_results_profile_dir(cfg), args.dataset, size)
    splits = load_prepared(args.dataset, resolve_data_root(cfg.get("data_root")), size, cache)
    print(f"{args.dataset}: {len(splits.train)} train / {len(splits.val)} validation images at {size}px -> {cache}")


def cmd_train(args) -> None:
    from .config import RunKey, resolve_spec
    from .data import DATASETS, load_prepared, resolve_data_root
    from .runs import data_cache_path
    from .runtime import select_device
    from .train import is_finished, train_run

    cfg = _profile_cfg(args)
    spec = resolve_spec(cfg, experiment=args.experiment, method=args.method, dataset=args.dataset,
                        seed=args.seed, overrides=args.set)
    out = Path(args.out) if args.out else RunKey(args.experiment, args.method, args.dataset, args.seed).path(
        cfg.get("results", "results"), cfg["profile"])
    if is_finished(out, spec):
        print(f"{out}: already trained ({spec['epochs']} epochs), nothing to do")
        return
    device = select_device(args.device)
    cache = data_cache_path(_results_profile_dir(cfg), args.dataset, spec["image_size"])
    # where the data was found: recorded for load_run, not part of the run's identity (config_hash)
    spec.update(data_root=cfg.get("data_root", "data"), data_cache=str(cache))
    splits = load_prepared(args.dataset, resolve_data_root(cfg.get("data_root")), spec["image_size"], cache)
    train_run(spec, out, splits, classes=DATASETS.get(args.dataset).classes, device=device,
              progress=not args.no_progress)
    print(f"{out}: trained {spec['epochs']} epochs")


def cmd_pretrain(args) -> None:
    from .data import load_prepared, resolve_data_root
    from .pretrain import pretrain, pretrain_config, pretrained_path
    from .runs import data_cache_path
    from .runtime import select_device

    cfg = _profile_cfg(args)
    pc = pretrain_config(cfg, args.network)
    cache = data_cache_path(_results_profile_dir(cfg), pc.dataset, pc.image_size)
    splits = load_prepared(pc.dataset, resolve_data_root(cfg.get("data_root")), pc.image_size, cache)
    out = Path(args.out) if args.out else pretrained_path(cfg, args.network)
    summary = pretrain(args.network, pc, splits, out, select_device(args.device))
    print(f"{out}: {args.network}, test accuracy {summary['test_accuracy']:.4f} "
          f"({summary['train_images']} training images, {pc.epochs} epochs, {summary['train_seconds']:.0f} s)")


def cmd_evaluate(args) -> None:
    from .evaluate import evaluate_run
    from .runtime import select_device

    for run_dir in args.run_dirs:
        result = evaluate_run(run_dir, device=str(select_device(args.device)))
        headline = {k: round(v, 4) for k, v in result.items() if k in ("recon_sse", "elbo_bpd", "psnr", "ssim")}
        print(f"{run_dir}: {headline}")


def cmd_aggregate(args) -> None:
    from .aggregate import build_tables

    cfg = _profile_cfg(args)
    for path in build_tables(cfg, only=args.table):
        print(path)


def cmd_figures(args) -> None:
    from .figures import build_figures

    cfg = _profile_cfg(args)
    for path in build_figures(cfg, only=args.figure):
        print(path)


def cmd_golden(args) -> None:
    from .golden import write_golden

    cfg = _profile_cfg(args)
    experiments = args.experiment or [n for n, e in cfg["experiments"].items() if e.get("golden", False)]
    for name in experiments:
        print(write_golden(cfg, name))


def cmd_list(args) -> None:
    from .config import load_profile
    from .data import DATASETS
    from .methods import METHODS, DataInfo, build_method, count_parameters

    print("methods (parameters for 1 channel, 32x32 unless fixed, default config; GLO adds nz per training image):")
    for name in METHODS.names():
        cls = METHODS.get(name)
        info = DataInfo(channels=1, image_size=cls.image_size or 32, classes=10, train_size=1)
        print(f"  {name:<22} {count_parameters(build_method(name, info)):>10,}  {(cls.__doc__ or '').strip().splitlines()[0] if cls.__doc__ else ''}")
    print("datasets:")
    for name in DATASETS.names():
        d = DATASETS.get(name)
        print(f"  {name:<22} channels={d.channels} classes={d.classes}{'  (bundled, offline)' if d.offline else ''}")
    for profile_path in sorted(Path("config").glob("*.yaml")):
        try:
            cfg = load_profile(path=profile_path)
        except Exception:  # a broken profile is reported by `gonbench check`, not here
            continue
        print(f"experiments in {profile_path}:")
        for name, exp in cfg.get("experiments", {}).items():
            print(f"  {name:<22} {exp.get('description', '')}")


def cmd_check(args) -> None:
    """Validate a profile and resolve every run's spec, without training anything."""
    from .config import expand_runs, resolve_spec

    cfg = _profile_cfg(args)
    runs = expand_runs(cfg)
    for key in runs:
        resolve_spec(cfg, experiment=key.experiment, method=key.method_label, dataset=key.dataset, seed=key.seed)
    print(f"{cfg['profile']}: {len(runs)} runs in {len(cfg['experiments'])} experiments resolve cleanly")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gonbench", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    def profile_args(sp):
        sp.add_argument("--profile", default="quick", help="config/<profile>.yaml (default: quick)")
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

    sp = sub.add_parser("train", help="train one run (resumes an interrupted one; a finished one is a no-op)")
    profile_args(sp)
    sp.add_argument("--experiment", default="table1")
    sp.add_argument("--method", required=True)
    sp.add_argument("--dataset", required=True)
    sp.add_argument("--seed", type=int, required=True)
    sp.add_argument("--out", default=None, help="run directory (default results/<profile>/<experiment>/<method>/<dataset>/seed<k>)")
    sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--threads", type=int, default=None)
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

    sp = sub.add_parser("golden", help="write tests/regression/<profile>_<experiment>.json from finished runs")
    profile_args(sp)
    sp.add_argument("--experiment", action="append", default=None,
                    help="experiment(s) to record (default: those marked golden: true in the profile)")
    sp.set_defaults(func=cmd_golden)

    sp = sub.add_parser("list", help="registered methods, datasets and experiments")
    sp.set_defaults(func=cmd_list)

    sp = sub.add_parser("check", help="validate a profile and resolve every run spec")
    profile_args(sp)
    sp.set_defaults(func=cmd_check)
    return p


def main(argv: list[str] | None = None) -> int:
    from .errors import GonbenchError, TrainingDiverged

    args = build_parser().parse_args(argv)
    _threads(getattr(args, "threads", None))
    try:
        args.func(args)
    except TrainingDiverged as exc:
        print(f"gonbench: error: {exc}", file=sys.stderr)
        return 1
    except GonbenchError as exc:
        print(f"gonbench: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
