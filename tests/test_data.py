"""tinynet.data: IDX parsing, the real MNIST files, datasets, DataLoader, wrappers, images."""

from __future__ import annotations

import gzip
import os
import pickle
import re
import sys
import tarfile
from pathlib import Path

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
from tinynet.data import (CIFAR10, FUNCTIONS, MNIST, OFFLINE_SUBSET, ConcatDataset, DataLoader, DataWarning,
                          Dataset,
                          FashionMNIST, FunctionDataset, ImageFolder, RandomLabels, Subset, TensorDataset,
                          decode_image, extract_archive, load_offline_subset, random_split, read_idx,
                          read_image_archive, restricted_loads)
from tinynet.data import datasets as datasets_module

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
CIFAR_JPEG_NAME = Path("cifar10-jpeg") / "CIFAR-10-images-d7d0561.tar.gz"


def shared_root() -> Path:
    """The data root the tests read: $TINYNET_DATA, the only place they look."""
    root = Path(os.environ.get("TINYNET_DATA", ""))
    if not os.environ.get("TINYNET_DATA") or not (root / "mnist" / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the full MNIST is not under {root}: set TINYNET_DATA to a folder holding mnist/")
    return root


def idx_bytes(array: numpy.ndarray, type_code: int) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + numpy.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# ----------------------------------------------------------------------------- IDX
@pytest.mark.parametrize("dtype,code", [(numpy.uint8, 0x08), (numpy.int8, 0x09), (numpy.int16, 0x0B),
                                        (numpy.int32, 0x0C), (numpy.float32, 0x0D), (numpy.float64, 0x0E)])
def test_read_idx_round_trips_every_type_raw_and_gzipped(tmp_path, dtype, code):
    array = (numpy.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    content = idx_bytes(array, code)
    for source in (content, gzip.compress(content)):
        parsed = read_idx(source)
        assert parsed.dtype == numpy.dtype(dtype) and parsed.dtype.isnative
        numpy.testing.assert_array_equal(parsed, array)
    path = tmp_path / "a.idx.gz"
    path.write_bytes(gzip.compress(content))
    numpy.testing.assert_array_equal(read_idx(path), array)
    assert read_idx(content).flags.writeable


def test_read_idx_rejects_wrong_magic_and_wrong_sizes():
    good = idx_bytes(numpy.zeros((2, 3), numpy.uint8), 0x08)
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(b"\x01\x00" + good[2:])
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(good[:2] + b"\x07" + good[3:])  # unknown type code
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(good[:-1])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(good + b"\x00")
    with pytest.raises(ValueError, match="inside its header"):
        read_idx(good[:6])


def test_read_idx_names_the_file_of_a_corrupt_gzip_or_an_impossible_header(tmp_path):
    good = gzip.compress(idx_bytes(numpy.arange(600, dtype=numpy.uint8).reshape(20, 30), 0x08))
    path = tmp_path / "images.idx.gz"
    for damaged in (good[:len(good) // 2], good[:10] + bytes(b ^ 0x5A for b in good[10:])):
        path.write_bytes(damaged)
        with pytest.raises(ValueError, match=f"{re.escape(str(path))} is a corrupt or truncated gzip"):
            read_idx(path)
    # dims whose product wraps to 0 in int64 (3 * 2**64): NumPy's prod would accept an empty body
    overflowing = bytes([0, 0, 0x08, 5]) + numpy.array([1 << 16] * 4 + [3], dtype=">u4").tobytes()
    for content in (overflowing, gzip.compress(overflowing)):
        path.write_bytes(content)
        with pytest.raises(ValueError, match=f"read_idx: {re.escape(str(path))}'s header .* declares "
                                             f"{3 << 64} bytes"):
            read_idx(path)
    with pytest.raises(ValueError, match="read_idx: labels.gz has more than 6 bytes of values"):
        read_idx(gzip.compress(idx_bytes(numpy.zeros(6, numpy.uint8), 0x08) + bytes(100)), name="labels.gz")


def test_mnist_rejects_idx_files_of_the_wrong_kind(tmp_path, monkeypatch):
    from tinynet.data import Resource
    from tinynet.data.download import md5_of_bytes
    labels_as_images = gzip.compress(idx_bytes(numpy.zeros(4, numpy.uint8), 0x08))
    labels = gzip.compress(idx_bytes(numpy.zeros(4, numpy.uint8), 0x08))
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "i.gz").write_bytes(labels_as_images)
    (tmp_path / "mnist" / "l.gz").write_bytes(labels)
    monkeypatch.setattr(MNIST, "resources", {"train": (Resource("i.gz", md5_of_bytes(labels_as_images)),
                                                       Resource("l.gz", md5_of_bytes(labels)))})
    with pytest.raises(ValueError, match=r"expected uint8 images \(N, H, W\)"):
        MNIST(tmp_path)


# ----------------------------------------------------------------------------- the real files
def test_real_mnist_loads_with_published_label_counts():
    root = shared_root()
    train, test = MNIST(root, train=True), MNIST(root, train=False)
    assert (len(train), len(test)) == (60000, 10000)
    assert train.source == f"full: {root / 'mnist'}" and test.source.startswith("full: ")
    assert numpy.bincount(train.targets).tolist() == MNIST_TRAIN_COUNTS
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == numpy.uint8
    assert train.targets.dtype == numpy.int64 and train.targets[:5].tolist() == [5, 0, 4, 1, 9]
    image, label = train[0]
    assert isinstance(image, tn.Tensor) and image.shape == (1, 28, 28) and image.dtype == numpy.float32
    assert label == 5 and 0.0 <= float(image.min()) and float(image.max()) == 1.0


def test_real_fashion_mnist_loads():
    root = shared_root()
    test = FashionMNIST(root, train=False)
    assert len(test) == 10000 and test.source == f"full: {root / 'fashion-mnist'}"
    assert numpy.bincount(test.targets).tolist() == [1000] * 10
    assert test.classes[test[0][1]] == "Ankle boot"


def test_data_root_comes_from_tinynet_data(monkeypatch):
    root = shared_root()
    monkeypatch.setenv("TINYNET_DATA", str(root))
    assert MNIST(train=False).source == f"full: {root / 'mnist'}"


def test_real_cifar_jpeg_archive_members_read_without_extracting():
    archive = Path(os.environ.get("TINYNET_DATA", "")) / CIFAR_JPEG_NAME
    if not os.environ.get("TINYNET_DATA") or not archive.is_file():
        pytest.skip(f"the offline CIFAR-10 JPEG copy is not at $TINYNET_DATA/{CIFAR_JPEG_NAME}")
    data, targets, classes = read_image_archive(archive, "test/", limit=5)
    assert data.shape == (5, 32, 32, 3) and data.dtype == numpy.uint8
    assert classes == ["airplane"] and targets.tolist() == [0] * 5
    assert 20 < data.mean() < 235  # real photographs, not blank


# ----------------------------------------------------------------------------- offline subset
def test_offline_subset_is_real_balanced_mnist_and_small():
    asset = Path(datasets_module.__file__).parent / "assets" / "mnist_subset.npz"
    assert asset.stat().st_size <= 4 * 1024 * 1024
    images, labels = load_offline_subset(train=True)
    test_images, test_labels = load_offline_subset(train=False)
    assert images.shape == (10000, 28, 28) and test_images.shape == (2000, 28, 28)
    assert numpy.bincount(labels).tolist() == [1000] * 10
    assert numpy.bincount(test_labels).tolist() == [200] * 10
    with numpy.load(asset) as arrays:
        indices = arrays["train_indices"]
    assert numpy.all(numpy.diff(indices) > 0) and indices.max() < 60000
    try:
        root = shared_root()
    except pytest.skip.Exception:
        return
    full = MNIST(root, train=True)  # every subset digit is the original digit at its recorded index
    numpy.testing.assert_array_equal(full.data[indices], images)
    numpy.testing.assert_array_equal(full.targets[indices], labels)


def test_mnist_falls_back_to_offline_subset_with_a_notice(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.warns(DataWarning, match="offline subset"):
        train = MNIST()
    assert train.source == OFFLINE_SUBSET and len(train) == 10000
    assert train.root == tmp_path / "cache" / "tinynet"
    with pytest.warns(DataWarning, match="offline subset"):
        assert len(MNIST(tmp_path / "empty", train=False)) == 2000


def test_fashion_mnist_has_no_fallback(tmp_path):
    with pytest.raises(RuntimeError, match="FashionMNIST: no test files with matching checksums in"):
        FashionMNIST(tmp_path, train=False)


# ----------------------------------------------------------------------------- datasets, wrappers
def test_tensor_dataset_items_and_batches():
    x, y = tn.randn(10, 3), tn.arange(10)
    ds = TensorDataset(x, y)
    item = ds[4]
    assert isinstance(item[0], tn.Tensor) and item[1].item() == 4
    bx, by = ds.get_batch(numpy.array([9, 0, 9]))
    numpy.testing.assert_array_equal(bx, x.numpy()[[9, 0, 9]])
    assert by.tolist() == [9, 0, 9]
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(tn.zeros(3), tn.zeros(4))


def test_subset_and_random_split():
    ds = TensorDataset(tn.arange(10) * 10)
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[0][0].item() == 70
    assert sub.get_batch(numpy.array([2, 1]))[0].tolist() == [50, 20]
    with pytest.raises(IndexError, match="indices must lie in"):
        Subset(ds, [10])
    parts = random_split(ds, [3, 7], seed=1)
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(numpy.concatenate([p.indices for p in parts]).tolist()) == list(range(10))
    assert numpy.array_equal(random_split(ds, [3, 7], seed=1)[0].indices, parts[0].indices)
    assert [len(p) for p in random_split(ds, [0.5, 0.25, 0.25], seed=0)] == [6, 2, 2]
    with pytest.raises(ValueError, match="do not sum"):
        random_split(ds, [3, 3])


def test_concat_dataset_indexes_and_batches_as_pytorch():
    torch = pytest.importorskip("torch")

    class Squares(Dataset):  # no get_batch of its own: batched sample by sample
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return tn.tensor([float(i * i)]), 100 + i

    parts = [TensorDataset(tn.arange(3.0)[:, None], tn.arange(3)), Squares(),
             TensorDataset(tn.arange(5.0)[:, None] - 10, tn.arange(5) + 50)]
    both = ConcatDataset(parts)
    theirs = torch.utils.data.ConcatDataset([
        torch.utils.data.TensorDataset(torch.arange(3.0)[:, None], torch.arange(3)),
        [(torch.tensor([float(i * i)]), 100 + i) for i in range(4)],
        torch.utils.data.TensorDataset(torch.arange(5.0)[:, None] - 10, torch.arange(5) + 50)])
    assert len(both) == len(theirs) == 12 and both.cumulative_sizes == theirs.cumulative_sizes
    for i in list(range(-12, 12)):
        ours, expected = both[i], theirs[i]
        assert ours[0].tolist() == expected[0].tolist() and int(ours[1]) == int(expected[1])
    x, y = both.get_batch(numpy.array([11, 0, 5, 3, 11, 7]))
    assert x[:, 0].tolist() == [-6.0, 0.0, 4.0, 0.0, -6.0, -10.0]
    assert y.tolist() == [54, 0, 102, 100, 54, 50]
    loaded = [b[1].tolist() for b in DataLoader(both, batch_size=5)]
    assert loaded == [[0, 1, 2, 100, 101], [102, 103, 50, 51, 52], [53, 54]]
    with pytest.raises(IndexError, match="index 12 is out of range for 12 samples"):
        both[12]
    with pytest.raises(ValueError, match="empty iterable"):
        ConcatDataset([])
    added = parts[0] + parts[2]  # Dataset.__add__, as in PyTorch
    assert isinstance(added, ConcatDataset) and added[3][1].item() == 50 and len(added) == 8


def test_random_labels_permute_and_uniform():
    x = tn.randn(200, 2)
    labels = numpy.repeat(numpy.arange(4), 50)
    ds = TensorDataset(x, tn.tensor(labels))
    permuted = RandomLabels(ds, seed=0)
    assert sorted(permuted.targets.tolist()) == labels.tolist()  # same class counts
    assert (permuted.targets != labels).mean() > 0.5
    numpy.testing.assert_array_equal(RandomLabels(ds, seed=0).targets, permuted.targets)
    assert not numpy.array_equal(RandomLabels(ds, seed=1).targets, permuted.targets)
    bx, by = permuted.get_batch(numpy.array([3, 1]))
    numpy.testing.assert_array_equal(bx, x.numpy()[[3, 1]])  # inputs untouched
    assert by.tolist() == permuted.targets[[3, 1]].tolist()
    assert permuted[3][1] == permuted.targets[3]
    uniform = RandomLabels(ds, seed=0, mode="uniform", num_classes=10)
    assert uniform.targets.max() > 3 and uniform.targets.min() >= 0
    with pytest.raises(ValueError, match="mode"):
        RandomLabels(ds, mode="shuffle")


def test_random_labels_over_mnist_subset_keeps_images():
    with pytest.warns(DataWarning):
        mnist = MNIST("/nonexistent-tinynet-root", train=False)
    noisy = RandomLabels(mnist, seed=3)
    images, labels = noisy.get_batch(numpy.arange(4))
    numpy.testing.assert_array_equal(images, mnist.get_batch(numpy.arange(4))[0])
    assert noisy.data is mnist.data and labels.dtype == numpy.int64


@pytest.mark.parametrize("name,x,expected", [
    ("sinc", 0.1, numpy.sin(0.5 * numpy.pi) / (0.5 * numpy.pi)), ("sign_sin", 0.1, 1.0),
    ("sign_sin", 0.3, -1.0), ("x_sigmoid", 2.0, 2.0 / (1 + numpy.exp(-2.0))),
    ("sign_cos_over_x", 0.1, 1.0), ("sign_cos_over_x", -0.1, -1.0), ("sign_cos_over_x", 0.2, -1.0),
    ("cos", 1.0, numpy.cos(1.0)), ("exp", 1.0, numpy.e)])
def test_function_values(name, x, expected):
    value = FUNCTIONS[name].evaluate(numpy.array([x]))[0]
    assert value == pytest.approx(expected, rel=1e-12)


def test_function_dataset_shapes_ranges_and_sampling():
    grid = FunctionDataset("sinc", n=101)
    assert grid.x.shape == (101, 1) and grid.y.shape == (101, 1)
    assert grid.x.dtype == numpy.float32 and grid.y.dtype == numpy.float32
    assert grid.formula == FunctionDataset.label("sinc") == "sin(5πx)/(5πx)"
    assert float(grid.x[0, 0]) == -1.0 and float(grid.x[-1, 0]) == 1.0
    assert float(grid.y[50, 0]) == 1.0  # the limit at x = 0
    uniform = FunctionDataset("exp", n=50, low=0.0, high=1.0, sampling="uniform", seed=4)
    x = uniform.x.numpy()
    assert 0 <= x.min() and x.max() <= 1 and len(numpy.unique(x)) == 50
    numpy.testing.assert_allclose(uniform.y.numpy(), numpy.exp(x), rtol=1e-6)
    numpy.testing.assert_array_equal(FunctionDataset("exp", 50, 0.0, 1.0, "uniform", seed=4).x.numpy(), x)
    with pytest.raises(ValueError, match="unknown function 'tan'"):
        FunctionDataset("tan")
    with pytest.raises(ValueError, match="low < high"):
        FunctionDataset("cos", low=1.0, high=0.0)


# ----------------------------------------------------------------------------- DataLoader
class CountingDataset(Dataset):
    """A dataset with no batch method: the DataLoader must fall back to sample-by-sample."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        return tn.tensor([float(i), -float(i)]), i


def test_dataloader_batches_len_and_drop_last():
    ds = TensorDataset(tn.randn(10, 3), tn.arange(10))
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert all(isinstance(t, tn.Tensor) for b in batches for t in b)
    assert numpy.concatenate([b[1].numpy() for b in batches]).tolist() == list(range(10))
    dropping = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dropping) == 2 and len(list(dropping)) == 2
    assert len(DataLoader(ds, batch_size=5, drop_last=True)) == 2
    assert len(DataLoader(ds, batch_size=20, drop_last=True)) == 0
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(ds, batch_size=bad)


@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 2**32))
def test_dataloader_serves_each_sample_once(n, batch_size, shuffle, drop_last, seed):
    loader = DataLoader(TensorDataset(tn.arange(n)), batch_size, shuffle, drop_last=drop_last,
                        seed=seed)
    served = [int(v) for (b,) in loader for v in b.numpy()]
    assert len(served) == len(loader) * batch_size if drop_last else len(served) == n
    assert len(set(served)) == len(served) and set(served) <= set(range(n))
    if not shuffle:
        assert served == list(range(len(served)))


def test_dataloader_shuffle_is_reproducible_per_epoch():
    ds = TensorDataset(tn.arange(100))

    def epoch_orders(loader, epochs):
        return [numpy.concatenate([b.numpy() for (b,) in loader]).tolist() for _ in range(epochs)]

    run = epoch_orders(DataLoader(ds, 16, shuffle=True, seed=7), 3)
    assert run == epoch_orders(DataLoader(ds, 16, shuffle=True, seed=7), 3)
    assert run[0] != run[1] != run[2] and sorted(run[2]) == list(range(100))
    assert run[0] != epoch_orders(DataLoader(ds, 16, shuffle=True, seed=8), 1)[0]
    resumed = DataLoader(ds, 16, shuffle=True, seed=7)
    resumed.set_epoch(2)  # a run resumed at epoch 2 sees epoch 2's order
    assert epoch_orders(resumed, 1) == run[2:] and resumed.epoch == 3
    tn.manual_seed(5)
    default_a = epoch_orders(DataLoader(ds, 16, shuffle=True), 1)
    tn.manual_seed(5)
    assert epoch_orders(DataLoader(ds, 16, shuffle=True), 1) == default_a


def test_dataloader_batches_array_datasets_without_touching_samples(monkeypatch):
    with pytest.warns(DataWarning):
        mnist = MNIST("/nonexistent-tinynet-root", train=False)
    monkeypatch.setattr(type(mnist), "__getitem__", lambda self, i: pytest.fail("per-sample fetch"))
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: pytest.fail("per-sample fetch"))
    images, labels = next(iter(DataLoader(mnist, batch_size=64, shuffle=True, seed=0)))
    assert images.shape == (64, 1, 28, 28) and images.dtype == numpy.float32
    assert labels.dtype == numpy.int64 and 0.0 <= float(images.min()) and float(images.max()) <= 1.0
    x, y = next(iter(DataLoader(TensorDataset(tn.randn(8, 2), tn.arange(8)), batch_size=8)))
    assert x.shape == (8, 2)


def test_dataloader_generic_fallback_and_transforms():
    ds = CountingDataset(7)
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert ds.calls == 5 and x.shape == (5, 2) and y.tolist() == [0, 1, 2, 3, 4] and y.dtype == numpy.int64

    class OnlyGetitem:  # not a tinynet Dataset at all
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return numpy.full(2, i, dtype=numpy.float32)

    (batch,) = [b for b in DataLoader(OnlyGetitem(), batch_size=3)]
    assert isinstance(batch, tn.Tensor) and batch.numpy().tolist() == [[0, 0], [1, 1], [2, 2]]
    with pytest.warns(DataWarning):
        flat = MNIST("/nonexistent-tinynet-root", train=False, transform=lambda image: image.flatten(),
                     target_transform=lambda label: label % 2)
    images, parity = next(iter(DataLoader(flat, batch_size=4)))
    assert images.shape == (4, 784) and parity.tolist() == (flat.targets[:4] % 2).tolist()


def test_dataloader_device_argument():
    loader = DataLoader(TensorDataset(tn.randn(4, 2)), batch_size=2, device="cpu")
    assert all(b.device == "cpu" for (b,) in loader)
    with pytest.raises(ValueError, match="unknown device"):
        DataLoader(TensorDataset(tn.randn(4, 2)), device="tpu")


@pytest.mark.skipif(not tn.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
def test_dataloader_moves_batches_to_cuda():
    with pytest.warns(DataWarning):
        mnist = MNIST("/nonexistent-tinynet-root", train=False)
    images, labels = next(iter(DataLoader(mnist, batch_size=32, shuffle=True, seed=0, device="cuda")))
    assert images.device == "cuda" and labels.device == "cuda" and images.shape == (32, 1, 28, 28)
    on_gpu = TensorDataset(tn.arange(10).to("cuda"))
    (batch,) = next(iter(DataLoader(on_gpu, batch_size=4, shuffle=True, seed=1)))
    assert batch.device == "cuda" and len(set(batch.tolist())) == 4


# ----------------------------------------------------------------------------- images
def make_image_tree(root: Path) -> dict[str, list[numpy.ndarray]]:
    from PIL import Image
    rng = numpy.random.default_rng(0)
    made = {}
    for name, count in (("dog", 2), ("cat", 3)):
        (root / name).mkdir(parents=True)
        made[name] = []
        for i in range(count):
            pixels = rng.integers(0, 256, (6, 5, 3), dtype=numpy.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
            made[name].append(pixels)
    Image.fromarray(numpy.full((6, 5), 128, numpy.uint8), mode="L").save(root / "cat" / "grey.jpg")
    (root / "cat" / "notes.txt").write_text("not an image")
    return made


def test_image_folder(tmp_path):
    pytest.importorskip("PIL")
    made = make_image_tree(tmp_path / "imgs")
    folder = ImageFolder(tmp_path / "imgs")
    assert folder.classes == ["cat", "dog"] and folder.class_to_idx == {"cat": 0, "dog": 1}
    assert len(folder) == 6 and folder.targets.tolist() == [0, 0, 0, 0, 1, 1]
    image, label = folder[4]
    assert label == 1 and image.shape == (3, 6, 5) and image.dtype == numpy.float32
    numpy.testing.assert_allclose(image.numpy(), made["dog"][0].transpose(2, 0, 1) / 255, rtol=1e-6)
    grey, _ = folder[3]  # grey.jpg sorts after the pngs and comes back as RGB
    assert grey.shape == (3, 6, 5) and abs(float(grey.mean()) - 128 / 255) < 0.02
    preloaded = ImageFolder(tmp_path / "imgs", preload=True)
    assert preloaded.data.shape == (6, 6, 5, 3)
    images, labels = next(iter(DataLoader(preloaded, batch_size=6)))
    numpy.testing.assert_allclose(images.numpy()[4], image.numpy())
    assert labels.tolist() == folder.targets.tolist()


def test_image_folder_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        ImageFolder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no class sub-folders"):
        ImageFolder(tmp_path / "empty")
    (tmp_path / "empty" / "cls").mkdir()
    with pytest.raises(FileNotFoundError, match="no .jpg"):
        ImageFolder(tmp_path / "empty")
    (tmp_path / "empty" / "cls" / "a.png").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    with pytest.raises(ImportError, match=r"tinynet\[images\]"):
        ImageFolder(tmp_path / "empty")[0]


def test_image_folder_names_truncated_files_and_decompression_bombs(tmp_path, monkeypatch):
    image_module = pytest.importorskip("PIL.Image")
    make_image_tree(tmp_path / "imgs")
    paths = sorted((tmp_path / "imgs").rglob("*.png"))
    for path in paths[:2]:
        path.write_bytes(path.read_bytes()[:60])  # cut off inside the pixel data
    folder = ImageFolder(tmp_path / "imgs")
    with pytest.raises(ValueError, match=f"{re.escape(str(paths[0]))} is not a readable image"):
        folder[0]
    with pytest.raises(ValueError, match=r"2 of the 6 images .* can't be read") as caught:
        ImageFolder(tmp_path / "imgs", preload=True)
    assert all(str(path) in str(caught.value) for path in paths[:2])
    intact = paths[2]
    for limit in (20, 10):  # 30 pixels: past the limit Pillow warns about, then past twice it
        monkeypatch.setattr(image_module, "MAX_IMAGE_PIXELS", limit)
        with pytest.raises(ValueError, match=f"{re.escape(str(intact))} is refused as a possible "
                                             "decompression bomb"):
            decode_image(intact)


def test_image_archive_read_and_extract(tmp_path):
    pytest.importorskip("PIL")
    made = make_image_tree(tmp_path / "tree" / "train")
    archive = tmp_path / "images.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "tree" / "train", arcname="train")
    data, targets, classes = read_image_archive(archive, "train/")
    assert classes == ["cat", "dog"] and data.shape == (6, 6, 5, 3)
    assert sorted(targets.tolist()) == [0] * 4 + [1] * 2
    assert any(numpy.array_equal(image, made["dog"][1]) for image in data)
    extracted = extract_archive(archive, tmp_path / "out")
    assert ImageFolder(extracted / "train").classes == ["cat", "dog"]
    with pytest.raises(FileExistsError):
        extract_archive(archive, tmp_path / "out")
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        tar.add(archive, arcname="../escape.tar.gz")
    with pytest.raises(ValueError, match="refusing member"):
        extract_archive(evil, tmp_path / "evil-out")
    assert not (tmp_path / "escape.tar.gz").exists() and not (tmp_path / "evil-out").exists()


def test_cifar_falls_back_to_the_jpeg_copy_with_a_notice(tmp_path, monkeypatch):
    pytest.importorskip("PIL")
    from tinynet.data import Resource
    from tinynet.data.download import md5_of_file
    classes = ["cat", "dog"]
    make_image_tree(tmp_path / "tree" / "test")
    archive = tmp_path / "root" / "cifar10-jpeg" / "copy.tar.gz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "tree" / "test", arcname="test")
    monkeypatch.setattr(CIFAR10, "classes", classes)
    monkeypatch.setattr(CIFAR10, "jpeg_copy", Resource("cifar10-jpeg/copy.tar.gz", md5_of_file(archive)))
    with pytest.warns(DataWarning, match="offline JPEG copy"):
        test = CIFAR10(tmp_path / "root", train=False)
    assert test.source == f"jpeg-copy (lossy): {archive}" and test.data.shape == (6, 6, 5, 3)
    monkeypatch.setattr(CIFAR10, "jpeg_copy", Resource("cifar10-jpeg/copy.tar.gz", "0" * 32))
    with pytest.warns(DataWarning, match="does not match its md5"), \
            pytest.raises(RuntimeError, match="CIFAR10"):
        CIFAR10(tmp_path / "root", train=False)


def test_restricted_unpickler_loads_arrays_but_refuses_other_globals(tmp_path):
    batch = {"data": numpy.arange(12, dtype=numpy.uint8).reshape(2, 6), "labels": [1, 2],
             "batch_label": b"testing batch", "filenames": ["a.png", "b.png"]}
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        loaded = restricted_loads(pickle.dumps(batch, protocol=protocol))
        numpy.testing.assert_array_equal(loaded["data"], batch["data"])
        assert loaded["labels"] == [1, 2] and loaded["batch_label"] == b"testing batch"

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    for payload in (Exploit(), {"data": Exploit()}):
        with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle the global"):
            restricted_loads(pickle.dumps(payload, protocol=2))
    assert not marker.exists()
    evil_codec = pickle.dumps(b"x", protocol=2).replace(b"latin1", b"zlib__")
    with pytest.raises(pickle.UnpicklingError):
        restricted_loads(evil_codec)
