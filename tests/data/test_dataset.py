"""Loading: channel-first tensors, subsampling, normalisation, workers, clear file errors."""

import h5py
import numpy as np
import pytest
import torch

from mufno_core.data import generate as gen
from mufno_core.data.dataset import (
    H5Dataset,
    UnitGaussianNormalizer,
    check_file,
    load_split,
    load_splits,
)
from mufno_core.data.presets import dataset_spec


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    paths = {}
    for name in ("burgers", "darcy", "navier_stokes"):
        spec = dataset_spec(name, "smoke").with_overrides(n_train=6, n_test=3)
        paths[name] = gen.generate_dataset(spec, root / f"{name}.h5", workers=1, progress=False)
    return paths


@pytest.mark.parametrize(("name", "subsample", "x_shape", "y_shape"), [
    ("burgers", 1, (6, 1, 64), (6, 1, 64)),
    ("burgers", 2, (6, 1, 32), (6, 1, 32)),
    ("darcy", 1, (6, 1, 29, 29), (6, 1, 29, 29)),
    ("darcy", 2, (6, 1, 15, 15), (6, 1, 15, 15)),
    ("navier_stokes", 2, (6, 10, 8, 8, 5), (6, 1, 8, 8, 5)),
])
def test_shapes(files, name, subsample, x_shape, y_shape):
    x, y = load_split(files[name], "train", subsample=subsample)
    assert x.shape == x_shape and y.shape == y_shape
    assert x.dtype == y.dtype == torch.float32


def test_layout_matches_file(files):
    x, y = load_split(files["navier_stokes"], "test", n=2)
    with h5py.File(files["navier_stokes"]) as f:
        raw_in, raw_out = f["input"][6:8], f["target"][6:8]
    np.testing.assert_array_equal(x[:, 3, :, :, 4].numpy(), raw_in[..., 3])  # repeated in time
    np.testing.assert_array_equal(x[:, 3, :, :, 0].numpy(), raw_in[..., 3])
    np.testing.assert_array_equal(y[:, 0].numpy(), raw_out)
    a, _ = load_split(files["darcy"], "train", n=1)
    assert set(np.unique(a.numpy())) <= {3.0, 12.0}


def test_dataset_items_and_workers(files):
    ds = H5Dataset(files["darcy"], "test")
    x_all, y_all = load_split(files["darcy"], "test")
    assert len(ds) == 3
    torch.testing.assert_close(ds[1][0], x_all[1])
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2)
    xs, ys = zip(*loader)
    torch.testing.assert_close(torch.cat(ys), y_all)


def test_splits_normalisation(files):
    splits = load_splits(files["darcy"])
    assert splits.x_normalizer is not None and splits.decode is not None
    torch.testing.assert_close(splits.x_train.mean(0), torch.zeros_like(splits.x_train[0]),
                               atol=1e-5, rtol=0)
    _, y_test = load_split(files["darcy"], "test")
    torch.testing.assert_close(splits.decode(splits.y_test), y_test, atol=1e-6, rtol=1e-5)
    burgers = load_splits(files["burgers"])  # targets only: u(·,1) is ~50× smaller than u(·,0)
    assert burgers.decode is not None and burgers.x_normalizer is None
    _, y_test = load_split(files["burgers"], "test")
    torch.testing.assert_close(burgers.decode(burgers.y_test), y_test, atol=1e-6, rtol=1e-5)
    raw = load_splits(files["burgers"], normalize_target=False)
    assert raw.decode is None and raw.decode_input is None


def test_splits_decode_inputs_and_move_with_their_normalisers(files):
    splits = load_splits(files["darcy"])
    x_test, _ = load_split(files["darcy"], "test")
    torch.testing.assert_close(splits.decode_input(splits.x_test), x_test, atol=1e-6, rtol=1e-5)
    moved = splits.to("meta")
    assert moved.x_train.is_meta and moved.y_test.is_meta and not splits.x_train.is_meta
    assert moved.x_normalizer is splits.x_normalizer and moved.pde == splits.pde


def test_normalizer_roundtrip_and_dict():
    x = torch.randn(10, 1, 7) * 3 + 2
    norm = UnitGaussianNormalizer.fit(x)
    again = UnitGaussianNormalizer.from_dict(norm.to_dict())
    torch.testing.assert_close(again.decode(again.encode(x)), x)
    with pytest.raises(ValueError, match="at least 2"):
        UnitGaussianNormalizer.fit(x[:1])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"split": "val"}, "split"),
    ({"n": 99}, "has 6"),
    ({"subsample": 3}, "does not divide"),
])
def test_bad_requests(files, kwargs, message):
    with pytest.raises(ValueError, match=message):
        H5Dataset(files["darcy"], **kwargs)


def test_missing_file_names_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="mufno data darcy --preset quick"):
        check_file(tmp_path / "darcy_quick.h5")


def test_garbage_file(tmp_path):
    path = tmp_path / "garbage.h5"
    path.write_bytes(b"this is not hdf5" * 100)
    with pytest.raises(ValueError, match="garbage.h5.*not a readable HDF5"):
        load_split(path)


def test_truncated_file(files, tmp_path):
    path = tmp_path / "cut.h5"
    data = files["darcy"].read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.h5.*(truncated|not a readable)"):
        load_split(path)


@pytest.mark.parametrize("problem", ["missing_dataset", "incomplete", "wrong_shape"])
def test_foreign_or_broken_layout(tmp_path, problem):
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f.attrs.update({"pde": "darcy", "n_train": 2, "n_test": 1,
                        "complete": problem != "incomplete", "resolution": 5})
        f["input"] = np.zeros((3, 5, 5) if problem != "wrong_shape" else (3, 5), "f4")
        f["grid"] = np.zeros((5, 5, 2), "f4")
        if problem != "missing_dataset":
            f["target"] = np.zeros((3, 5, 5), "f4")
    message = {"missing_dataset": "missing dataset", "incomplete": "did not complete",
               "wrong_shape": "wrong layout"}[problem]
    with pytest.raises(ValueError, match=f"foreign.h5.*{message}"):
        load_split(path)
