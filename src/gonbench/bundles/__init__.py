"""Run bundles: a profile's finished runs in one archive that another checkout imports instead of training.

A bundle is a compressed tar (stdlib ``tarfile``) of run directories under ``runs/<experiment>/<method
label>/<dataset>/seed<k>/`` and a ``manifest.json`` that lists every member with its size and sha256, each
run's spec hash and where it was produced (gonbench version, git commit and dirty flag, torch, device).

A bundle comes from someone else, so ``gonbench import`` treats it as untrusted input: it is checked whole in
a temporary folder (member paths and types, sizes, checksums, JSON, ``weights_only`` checkpoints, profile and
format) and only then are its runs moved into ``results/<profile>/``; a refused bundle writes nothing. An
imported run keeps ``provenance.json`` (the bundle id, producing commit and device), which every table's CSV,
its caption and ``runs.csv`` show; a complete imported cell gets its ``cell.json`` marker, which the plan
(``workflow.Plan.cell_inputs``) reads so that Snakemake plans no training job for it.
"""
from .export import export_bundle
from .manifest import FORMAT, cell_is_imported, provenance
from .place import import_bundle

__all__ = ["FORMAT", "cell_is_imported", "export_bundle", "import_bundle", "provenance"]
