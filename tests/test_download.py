"""Downloads, checksums and the CIFAR pickle path, against a local HTTP server on 127.0.0.1.

The server holds small files in the real formats (gzipped IDX files, a CIFAR-style tarball of
pickled batches) and serves each one intact (``/good/``), corrupted (``/corrupt/``: same length,
bytes changed), cut off halfway (``/truncated/``: Content-Length of the whole file, half the
body), endlessly (``/endless/``: no Content-Length, the file then 4 MiB of zeros), announcing a
huge size (``/huge/``: Content-Length of 10 GiB), or not at all (``/missing/``: 404).
"""

from __future__ import annotations

import gzip
import http.server
import io
import os
import pickle
import re
import tarfile
import threading
import tracemalloc
from collections import Counter
from pathlib import Path

import numpy
import pytest

from tinynet.data import (CIFAR10, MNIST, OFFLINE_SUBSET, DataWarning, DownloadError, FashionMNIST, Resource,
                          data_root, download_resource, find_verified)
from tinynet.data import datasets as datasets_module
from tinynet.data.download import md5_of_bytes


def idx_gz(array: numpy.ndarray, mtime: int = 0, level: int = 9) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + numpy.array(array.shape, dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(numpy.uint8).tobytes(), compresslevel=level, mtime=mtime)


def cifar_batch(seed: int, n: int) -> bytes:
    rng = numpy.random.default_rng(seed)
    return pickle.dumps({"batch_label": "batch", "labels": rng.integers(0, 10, n).tolist(),
                         "data": rng.integers(0, 256, (n, 3072), dtype=numpy.uint8),
                         "filenames": [f"{i}.png" for i in range(n)]}, protocol=2)


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


RNG = numpy.random.default_rng(0)
TRAIN_IMAGES = RNG.integers(0, 256, (12, 28, 28), dtype=numpy.uint8)
TRAIN_LABELS = RNG.integers(0, 10, 12).astype(numpy.uint8)
TEST_IMAGES = RNG.integers(0, 256, (5, 28, 28), dtype=numpy.uint8)
TEST_LABELS = RNG.integers(0, 10, 5).astype(numpy.uint8)
FILES = {
    "train-images-idx3-ubyte.gz": idx_gz(TRAIN_IMAGES),
    "train-labels-idx1-ubyte.gz": idx_gz(TRAIN_LABELS),
    "t10k-images-idx3-ubyte.gz": idx_gz(TEST_IMAGES),
    "t10k-labels-idx1-ubyte.gz": idx_gz(TEST_LABELS),
}
CIFAR_BATCHES = {"data_batch_1": cifar_batch(1, 4), "data_batch_2": cifar_batch(2, 3),
                 "test_batch": cifar_batch(3, 2)}
FILES["cifar-10-python.tar.gz"] = tar_gz({f"cifar-10-batches-py/{name}": content
                                          for name, content in CIFAR_BATCHES.items()})


def resource(name: str) -> Resource:
    content = FILES[name]
    raw = gzip.decompress(content) if name.endswith("ubyte.gz") else None
    return Resource(name, md5_of_bytes(content), raw and md5_of_bytes(raw), len(content), raw and len(raw))


class Handler(http.server.BaseHTTPRequestHandler):
    requests: Counter = Counter()

    def do_GET(self):  # noqa: N802 (http.server's name)
        _, mode, name = self.path.split("/", 2)
        Handler.requests[(mode, name)] += 1
        if mode == "missing" or name not in FILES:
            self.send_error(404)
            return
        content = FILES[name]
        body = {"good": content, "truncated": content[:len(content) // 2], "huge": content,
                "corrupt": content[:-8] + bytes(b ^ 0xFF for b in content[-8:]),
                "endless": content + bytes(4 << 20)}[mode]
        self.send_response(200)
        if mode != "endless":  # without a length, the body ends when the connection closes
            self.send_header("Content-Length", str(10 << 30 if mode == "huge" else len(content)))
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading, as it should
            pass
        self.close_connection = True

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def tiny_mnist(monkeypatch, server):
    """MNIST pointed at the tiny files; returns a function setting its mirrors to server modes."""
    monkeypatch.setattr(MNIST, "resources", {
        "train": (resource("train-images-idx3-ubyte.gz"), resource("train-labels-idx1-ubyte.gz")),
        "test": (resource("t10k-images-idx3-ubyte.gz"), resource("t10k-labels-idx1-ubyte.gz"))})
    Handler.requests.clear()

    def use_mirrors(*modes):
        monkeypatch.setattr(MNIST, "mirrors", [f"{server}/{mode}/" for mode in modes])
    return use_mirrors


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


# ----------------------------------------------------------------------------- download_resource()
def test_download_skips_truncated_and_corrupt_mirrors(tmp_path, server):
    name = "train-labels-idx1-ubyte.gz"
    mirrors = [f"{server}/truncated/", f"{server}/corrupt/", f"{server}/missing/", f"{server}/good/"]
    with pytest.warns(DataWarning) as caught:
        path = download_resource(resource(name), tmp_path / "dl", mirrors)
    messages = [str(w.message) for w in caught]
    assert any("truncated: received" in m and "/truncated/" in m for m in messages)
    assert any("does not match the expected" in m and "/corrupt/" in m for m in messages)
    assert any("404" in m and "/missing/" in m for m in messages)
    assert path == tmp_path / "dl" / name and path.read_bytes() == FILES[name]
    assert leftovers(tmp_path / "dl") == []


@pytest.mark.parametrize("mode", ["truncated", "corrupt", "missing"])
def test_failed_download_leaves_nothing_at_the_final_path(tmp_path, server, mode):
    name = "t10k-images-idx3-ubyte.gz"
    with pytest.warns(DataWarning), pytest.raises(DownloadError, match=f"could not download {name}"):
        download_resource(resource(name), tmp_path, [f"{server}/{mode}/"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", ["endless", "huge"])
def test_download_stops_at_the_expected_size(tmp_path, server, mode):
    name = "train-images-idx3-ubyte.gz"
    with pytest.warns(DataWarning, match="more than the expected") as caught, \
            pytest.raises(DownloadError, match=f"could not download {name}"):
        download_resource(resource(name), tmp_path, [f"{server}/{mode}/"])
    assert f"/{mode}/{name}" in str(caught[0].message) and list(tmp_path.iterdir()) == []


def test_download_needs_the_expected_size(tmp_path, server):
    unsized = Resource("train-images-idx3-ubyte.gz", md5_of_bytes(FILES["train-images-idx3-ubyte.gz"]))
    with pytest.raises(ValueError, match="has no expected size"):
        download_resource(unsized, tmp_path, [f"{server}/good/"])


def test_builtin_mirrors_use_https_and_every_download_has_a_size():
    for dataset in (MNIST, FashionMNIST, CIFAR10):
        assert dataset.mirrors and all(mirror.startswith("https://") for mirror in dataset.mirrors)
    for resources in (*MNIST.resources.values(), *FashionMNIST.resources.values(), (CIFAR10.archive,)):
        for published in resources:
            assert published.size > 0
            assert published.raw_md5 is None or published.raw_size > published.size


def test_unreachable_mirror_is_reported(tmp_path):
    with pytest.warns(DataWarning, match="failed"), pytest.raises(DownloadError):
        download_resource(resource("t10k-labels-idx1-ubyte.gz"), tmp_path, ["http://127.0.0.1:9/"], timeout=5)


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYNET_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("TINYNET_DATA")
    assert data_root() == tmp_path / "xdg" / "tinynet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data_root() == Path.home() / ".cache" / "tinynet"


# ----------------------------------------------------------------------------- files on disk
def test_files_on_disk_accepted_by_either_checksum(tmp_path):
    labels = resource("train-labels-idx1-ubyte.gz")
    folder = tmp_path / "mnist"
    folder.mkdir()
    recompressed = idx_gz(TRAIN_LABELS, mtime=12345, level=1)  # same content, different .gz bytes
    assert md5_of_bytes(recompressed) != labels.md5
    (folder / labels.filename).write_bytes(recompressed)
    content, path = find_verified(labels, [folder])
    assert path == folder / labels.filename and md5_of_bytes(content) == labels.raw_md5
    (folder / labels.filename).unlink()
    # decompressed, as torchvision leaves it
    (folder / "train-labels-idx1-ubyte").write_bytes(gzip.decompress(recompressed))
    assert find_verified(labels, [folder])[1] == folder / "train-labels-idx1-ubyte"


def test_mnist_downloads_and_parses_the_real_format(tmp_path, tiny_mnist):
    tiny_mnist("corrupt", "good")
    with pytest.warns(DataWarning, match="does not match the expected"):
        train = MNIST(tmp_path, train=True, download=True)
    assert train.source == f"full: {tmp_path / 'mnist'}" and len(train) == 12
    numpy.testing.assert_array_equal(train.data, TRAIN_IMAGES)
    numpy.testing.assert_array_equal(train.targets, TRAIN_LABELS)
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    Handler.requests.clear()
    again = MNIST(tmp_path, train=True, download=True)  # on disk now: no request at all
    assert not Handler.requests and again.source == train.source


def test_corrupt_file_on_disk_is_reported_refetched_and_never_parsed(tmp_path, tiny_mnist, monkeypatch):
    tiny_mnist("good")
    folder = tmp_path / "mnist"
    folder.mkdir()
    good = FILES["t10k-images-idx3-ubyte.gz"]
    bad = good[:len(good) // 2]  # a truncated earlier download
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(bad)
    parsed = []
    real_read_idx = datasets_module.read_idx
    monkeypatch.setattr(datasets_module, "read_idx",
                        lambda data, name=None: parsed.append(data) or real_read_idx(data, name))
    with pytest.warns(DataWarning, match="checksum does not match"):
        test = MNIST(tmp_path, train=False, download=True)
    assert test.source.startswith("full: ") and len(test) == 5
    assert (folder / "t10k-images-idx3-ubyte.gz").read_bytes() == good
    assert gzip.decompress(good) in parsed and all(bad not in data for data in parsed)
    assert Handler.requests[("good", "t10k-images-idx3-ubyte.gz")] == 1


def test_mnist_falls_back_to_subset_when_downloads_fail(tmp_path, tiny_mnist):
    tiny_mnist("missing", "truncated")
    with pytest.warns(DataWarning) as caught:
        train = MNIST(tmp_path, train=True, download=True)
    assert train.source == OFFLINE_SUBSET and len(train) == 10000
    notice = str(caught[-1].message)
    assert "offline subset" in notice and "download failed" in notice
    assert leftovers(tmp_path / "mnist") == []
    assert not (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").exists()


@pytest.mark.parametrize("download", [False, True])
def test_a_corrupt_full_mnist_is_an_error_naming_the_file_not_a_fallback(tmp_path, tiny_mnist, download):
    tiny_mnist("missing")
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(FILES["t10k-images-idx3-ubyte.gz"])
    bad = folder / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(FILES["t10k-labels-idx1-ubyte.gz"][:-20])  # a truncated earlier download
    with pytest.warns(DataWarning) as caught, \
            pytest.raises(RuntimeError, match=f"{re.escape(str(bad))} is not a good copy.*Delete it and run "
                                              "again with download=True"):
        MNIST(tmp_path, train=False, download=download)
    assert any("checksum does not match" in str(w.message) for w in caught)


def test_a_gzip_bomb_on_disk_is_not_decompressed_past_the_expected_size(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    bomb = folder / "t10k-labels-idx1-ubyte.gz"  # 64 MiB of zeros in about 64 KiB
    with gzip.open(bomb, "wb") as file:
        for _ in range(64):
            file.write(bytes(1 << 20))
    tracemalloc.start()
    try:
        with pytest.warns(DataWarning, match="holds more than the expected 10008 bytes"), \
                pytest.raises(RuntimeError, match=f"{re.escape(str(bomb))} is not a good copy"):
            MNIST(tmp_path, train=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


# ----------------------------------------------------------------------------- CIFAR-10
@pytest.fixture
def tiny_cifar(monkeypatch, server):
    monkeypatch.setattr(CIFAR10, "archive", resource("cifar-10-python.tar.gz"))
    monkeypatch.setattr(CIFAR10, "train_batches", tuple(Resource(n, md5_of_bytes(CIFAR_BATCHES[n]))
                                                        for n in ("data_batch_1", "data_batch_2")))
    test_md5 = md5_of_bytes(CIFAR_BATCHES["test_batch"])
    monkeypatch.setattr(CIFAR10, "test_batches", (Resource("test_batch", test_md5),))
    monkeypatch.setattr(CIFAR10, "mirrors", [f"{server}/truncated/", f"{server}/good/"])


def expected_cifar(*names):
    batches = [pickle.loads(CIFAR_BATCHES[name]) for name in names]
    images = numpy.concatenate([b["data"] for b in batches]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, numpy.concatenate([b["labels"] for b in batches])


def test_cifar_downloads_verifies_and_reads_the_python_batches(tmp_path, tiny_cifar):
    with pytest.warns(DataWarning, match="truncated"):
        train = CIFAR10(tmp_path, train=True, download=True)
    images, labels = expected_cifar("data_batch_1", "data_batch_2")
    assert train.source == f"full: {tmp_path / 'cifar-10' / 'cifar-10-python.tar.gz'}"
    assert train.data.shape == (7, 32, 32, 3) and train.targets.dtype == numpy.int64
    numpy.testing.assert_array_equal(train.data, images)
    numpy.testing.assert_array_equal(train.targets, labels)
    image, label = train[1]
    assert image.shape == (3, 32, 32) and label == labels[1]
    numpy.testing.assert_allclose(image.numpy(), images[1].transpose(2, 0, 1) / 255, rtol=1e-6)
    test = CIFAR10(tmp_path, train=False)
    assert len(test) == 2 and leftovers(tmp_path / "cifar-10") == []


def test_cifar_reads_an_unpacked_batch_folder(tmp_path, tiny_cifar):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "test_batch").write_bytes(CIFAR_BATCHES["test_batch"])
    test = CIFAR10(tmp_path, train=False)
    assert test.source == f"full: {folder}"
    numpy.testing.assert_array_equal(test.data, expected_cifar("test_batch")[0])


def test_cifar_never_unpickles_an_unverified_archive(tmp_path, tiny_cifar, monkeypatch):
    monkeypatch.setattr(datasets_module, "restricted_loads", lambda content: pytest.fail("unpickled"))
    (tmp_path / "cifar-10").mkdir()
    tampered = tar_gz({"cifar-10-batches-py/test_batch": cifar_batch(99, 2)})
    (tmp_path / "cifar-10" / "cifar-10-python.tar.gz").write_bytes(tampered)
    with pytest.warns(DataWarning, match="checksum does not match"), \
            pytest.raises(RuntimeError, match="no official batches with matching checksums in"):
        CIFAR10(tmp_path, train=False)


def test_cifar_refuses_a_malicious_batch_even_with_matching_checksums(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    evil_batch = pickle.dumps({"data": Exploit(), "labels": []}, protocol=2)
    archive = tar_gz({"cifar-10-batches-py/test_batch": evil_batch})
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(archive)
    monkeypatch.setattr(CIFAR10, "archive", Resource("cifar-10-python.tar.gz", md5_of_bytes(archive)))
    monkeypatch.setattr(CIFAR10, "test_batches", (Resource("test_batch", md5_of_bytes(evil_batch)),))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to unpickle the global \w+\.system"):
        CIFAR10(tmp_path, train=False)
    assert not marker.exists()
