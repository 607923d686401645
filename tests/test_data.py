"""The data layer on the real files under $GONBENCH_DATA and on tiny files written in the official formats."""
from __future__ import annotations

import gzip
import hashlib
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gonbench.data import DATASETS, load_prepared, prepare, resolve_data_root
from gonbench.data.celeba import load_celeba
from gonbench.data.cifar import load_cifar10
from gonbench.data.coil20 import load_coil20
from gonbench.data.mnist import load_mnist
from gonbench.data.smallnorb import load_smallnorb
from gonbench.errors import DataError, UnknownNameError


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# -- real files -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,train,val", [("mnist", 60000, 10000), ("fashion_mnist", 60000, 10000),
                                            ("coil20", 1152, 288), ("digits", 1438, 359)])
def test_real_datasets_prepare_to_32px_uint8(data_root, name, train, val):
    splits = prepare(name, data_root, 32)
    assert splits.train.shape == (train, 1, 32, 32) and splits.val.shape == (val, 1, 32, 32)
    assert splits.train.dtype == torch.uint8 and int(splits.train.max()) > 200
    assert len(splits.train_labels) == train and int(splits.train_labels.max()) == DATASETS.get(name).classes - 1


def test_coil20_split_is_a_fixed_permutation(data_root):
    a, b = load_coil20(data_root), load_coil20(data_root)
    assert torch.equal(a.val, b.val) and torch.equal(a.val_labels, b.val_labels)
    assert "randperm(1440, seed=0)" in a.meta["split"]
    assert set(a.val_labels.tolist()) == set(range(20))  # every object appears in validation


def test_data_root_env_wins_over_config(monkeypatch, tmp_path):
    monkeypatch.setenv("GONBENCH_DATA", str(tmp_path))
    assert resolve_data_root("elsewhere") == tmp_path
    monkeypatch.delenv("GONBENCH_DATA")
    assert resolve_data_root("elsewhere") == Path("elsewhere")


def test_corrupt_file_names_file_checksum_and_source(data_root, tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(data_root / "mnist", folder)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(DataError) as err:
        load_mnist(tmp_path, download=False)
    msg = str(err.value)
    assert "\n" not in msg and str(target) in msg and "ec29112dd5afa0611ce80d1b7f02629c" in msg and "http" in msg


def test_missing_file_without_download_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match=r"missing dataset file .*train-images-idx3-ubyte.gz \(md5 f68b3c2d"):
        load_mnist(tmp_path, download=False)


def test_prepared_cache_round_trip(tmp_path):
    cache = tmp_path / "digits.pt"
    first = load_prepared("digits", tmp_path, 32, cache)
    assert cache.exists()
    again = load_prepared("digits", tmp_path, 32, cache)
    assert torch.equal(first.train, again.train)


def test_unknown_dataset_lists_choices():
    with pytest.raises(UnknownNameError, match="valid choices: celeba, cifar10, coil20, coil20_fibres, digits"):
        DATASETS.get("svhn")


# -- tiny files in the official formats -------------------------------------------------------------------
def write_cifar(root: Path) -> dict[str, str]:
    folder = root / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    sums = {}
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
        batch = {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": [0, 1, 2, 3]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
        sums[name] = md5(folder / name)
    return sums


def test_cifar10_reads_official_pickles(tmp_path):
    sums = write_cifar(tmp_path)
    splits = load_cifar10(tmp_path, download=False, checksums=sums)
    assert splits.train.shape == (20, 3, 32, 32) and splits.val.shape == (4, 3, 32, 32)
    raw = pickle.load(open(tmp_path / "cifar10/cifar-10-batches-py/test_batch", "rb"), encoding="bytes")
    assert torch.equal(splits.val[1].flatten(), torch.from_numpy(raw[b"data"][1]))  # channel-major layout kept


def test_cifar10_checks_official_md5_by_default(tmp_path):
    write_cifar(tmp_path)
    with pytest.raises(DataError, match="c99cafc152244af753f735de768cd75f"):
        load_cifar10(tmp_path, download=False)


def norb_matrix(array: np.ndarray, magic: int) -> bytes:
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    header = np.array([magic, array.ndim, *dims], dtype="<i4").tobytes()
    return header + array.tobytes()


def test_smallnorb_parses_binary_matrices(tmp_path):
    folder = tmp_path / "smallnorb"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("smallnorb-5x46789x9x18x6x2x96x96-training", 6), ("smallnorb-5x01235x9x18x6x2x96x96-testing", 3)):
        dat = rng.integers(0, 256, (n, 2, 96, 96), dtype=np.uint8)
        cat = np.arange(n, dtype="<i4") % 5
        with gzip.open(folder / f"{prefix}-dat.mat.gz", "wb") as f:
            f.write(norb_matrix(dat, 0x1E3D4C55))
        (folder / f"{prefix}-cat.mat").write_bytes(norb_matrix(cat, 0x1E3D4C54))
        if n == 3:
            expected_first = dat[0, 0]
    splits = load_smallnorb(tmp_path, download=False)
    assert splits.train.shape == (6, 1, 96, 96) and splits.val.shape == (3, 1, 96, 96)
    assert np.array_equal(splits.val[0, 0].numpy(), expected_first)  # camera 0
    assert splits.train_labels.tolist() == [0, 1, 2, 3, 4, 0]
    assert len(splits.meta["sha256"]) == 4


def test_smallnorb_rejects_a_bad_header(tmp_path):
    folder = tmp_path / "smallnorb"
    folder.mkdir()
    (folder / "smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat").write_bytes(b"\x00" * 64)
    (folder / "smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat").write_bytes(b"\x00" * 64)
    with pytest.raises(DataError, match="not a SmallNORB binary matrix"):
        load_smallnorb(tmp_path, download=False)


def test_celeba_uses_official_partition_and_crops(tmp_path):
    folder = tmp_path / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    rows = []
    for i, part in enumerate([0, 0, 1, 2]):
        img = np.full((218, 178, 3), 40 * i, dtype=np.uint8)
        Image.fromarray(img).save(folder / "img_align_celeba" / f"{i:06d}.jpg")
        rows.append(f"{i:06d}.jpg {part}")
    (folder / "list_eval_partition.txt").write_text("\n".join(rows) + "\n")
    sums = {"list_eval_partition.txt": md5(folder / "list_eval_partition.txt")}
    splits = load_celeba(tmp_path, download=False, checksums=sums, image_size=32)
    assert splits.train.shape == (2, 3, 32, 32) and splits.val.shape == (1, 3, 32, 32)  # test partition unused
    assert abs(int(splits.val.float().mean()) - 80) <= 1
    with pytest.raises(DataError, match="d32c9cbf5e040fd4025c592c306e6668"):
        load_celeba(tmp_path, download=False, image_size=32)  # official md5 by default
