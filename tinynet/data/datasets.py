"""MNIST, Fashion-MNIST and CIFAR-10, read from their published files, as torchvision has them.

Each data set is looked for under the data root (see :func:`~tinynet.data.data_root`): MNIST in
``<root>/mnist`` (or torchvision's ``<root>/MNIST/raw``), Fashion-MNIST in ``<root>/fashion-mnist``,
CIFAR-10 in ``<root>/cifar-10`` or ``<root>``. A file counts only when its checksum matches; with
``download=True`` what is missing or bad is fetched from the known mirrors. When the full MNIST
is absent, ``MNIST`` falls back to the small real subset shipped with tinynet, and says so; a
corrupt one is an error. Every data set records where its data came from in ``source``, for
experiments to report.

Samples are ``(image, label)``: the image a float32 Tensor in [0, 1] shaped (C, H, W) (then
``transform``), the label an int. ``data`` (uint8 images) and ``targets`` (int64 labels) expose
the whole set as NumPy arrays.
"""

from __future__ import annotations

import codecs
import importlib.resources
import io
import math
import os
import pickle
import tarfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy

from tinynet.data.dataset import Dataset
from tinynet.data.download import (DataWarning, DownloadError, Resource, copies_of, data_root,
                                   download_resource, find_verified, md5_of_bytes, md5_of_file, open_content,
                                   read_at_most)
from tinynet.data.images import images_to_float, labelled_image, read_image_archive
from tinynet.serialization import MAX_DEFLATE_RATIO

OFFLINE_SUBSET = "offline-subset"

# ----------------------------------------------------------------------------- IDX format
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(source: bytes | str | os.PathLike, name: str | None = None) -> numpy.ndarray:
    """Parse an IDX file (the format of MNIST): its bytes, or a path; gzipped or not.

    The header is two zero bytes, a type code, the number of dimensions, then each dimension as
    a big-endian uint32; the values follow, big-endian. A gzipped file is decompressed only as far
    as its header says it reaches. Raises ValueError naming the file (``name``, else the path) on
    a bad magic number, a corrupt gzip, or a size that does not match the header.

    >>> read_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    array([7, 8, 9], dtype=uint8)
    """
    name = name or ("IDX data" if isinstance(source, (bytes, bytearray)) else str(source))
    stored = len(source) if isinstance(source, (bytes, bytearray)) else os.path.getsize(source)
    with open_content(source, name) as stream:
        magic = stream.read(4)
        if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
            raise ValueError(f"read_idx: {name} is not an IDX file: magic bytes {magic.hex()} (expected "
                             "0000 then a type code 08/09/0b/0c/0d/0e and the number of dimensions)")
        dtype, ndim = numpy.dtype(_IDX_DTYPES[magic[2]]), magic[3]
        dims = stream.read(4 * ndim)
        if len(dims) < 4 * ndim:
            raise ValueError(f"read_idx: {name} is truncated inside its header ({4 + len(dims)} bytes)")
        shape = tuple(int.from_bytes(dims[i:i + 4], "big") for i in range(0, len(dims), 4))
        expected = math.prod(shape) * dtype.itemsize  # Python ints: a huge header can't overflow
        if expected > MAX_DEFLATE_RATIO * stored:
            raise ValueError(f"read_idx: {name}'s header (shape {shape}, {dtype.str}) declares {expected} "
                             f"bytes of values, more than a file of {stored} bytes can hold: it is corrupt")
        values = read_at_most(stream, expected)
    if len(values) != expected:
        found = f"more than {expected}" if len(values) > expected else len(values)
        raise ValueError(f"read_idx: {name} has {found} bytes of values, but its header (shape {shape}, "
                         f"{dtype.str}) means {expected}: the file is truncated or corrupt")
    return numpy.frombuffer(values, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


# ----------------------------------------------------------------------------- shared machinery
class _ImageArrayDataset(Dataset):
    """A labelled image data set held as arrays: ``data`` uint8 (N, H, W) or (N, H, W, C),
    ``targets`` int64 (N,). Batches are sliced from the arrays directly."""

    classes: list[str] = []
    root: Path
    train: bool
    source: str
    data: numpy.ndarray
    targets: numpy.ndarray

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        self.transform = transform
        self.target_transform = target_transform
        self.root = data_root(root)
        self.train = train
        self.data, self.targets, self.source = self._load(download)

    def _load(self, allow_download: bool) -> tuple[numpy.ndarray, numpy.ndarray, str]:
        """(data, targets, source) of the split ``self.train`` selects, from ``self.root``."""
        raise NotImplementedError(f"{type(self).__name__} must define _load")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: label for label, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return labelled_image(self.data[index], self.targets[index], self.transform,
                              self.target_transform)

    def get_batch(self, indices: numpy.ndarray) -> Any:
        if self.transform is not None or self.target_transform is not None:
            return super().get_batch(indices)  # transforms are per sample
        return images_to_float(self.data[indices]), self.targets[indices]

    def __repr__(self) -> str:
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {'Train' if self.train else 'Test'}\n"
                f"    Source: {self.source}")


# ----------------------------------------------------------------------------- MNIST family
class MNIST(_ImageArrayDataset):
    """The MNIST digits: 60,000 training and 10,000 test images, 28x28 grey, labels 0-9.

    Looks for the four IDX ``.gz`` files in ``<root>/mnist`` (or ``<root>/MNIST/raw``), accepting
    each by its published md5 or its decompressed md5. ``download=True`` fetches missing or bad
    files from ``mirrors``. If the full set is absent, the 10,000/2,000-digit subset shipped with
    tinynet is used instead, with a :class:`DataWarning`; ``source`` says which (``'full: <folder>'``
    or ``'offline-subset'``). A file that is there but corrupt is an error naming it, not a reason
    to fall back.

    >>> train = MNIST(train=True)  # doctest: +SKIP
    >>> image, label = train[0]  # doctest: +SKIP
    >>> image.shape, label, train.source  # doctest: +SKIP
    ((1, 28, 28), 5, 'full: /home/me/.cache/tinynet/mnist')
    """

    folders = ("mnist", "MNIST/raw")  # under the root; downloads go to the first
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/"]
    resources = {
        "train": (Resource("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                           "6bbc9ace898e44ae57da46a324031adb", 9912422, 47040016),
                  Resource("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432",
                           "a25bea736e30d166cdddb491f175f624", 28881, 60008)),
        "test": (Resource("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
                          "2646ac647ad5339dbf082846283269ea", 1648877, 7840016),
                 Resource("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
                          "27ae3e4e09519cfbb04c329615203637", 4542, 10008)),
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]
    offline_subset: str | None = "mnist_subset.npz"  # in tinynet/data/assets; None: no fallback

    def _load(self, allow_download: bool) -> tuple[numpy.ndarray, numpy.ndarray, str]:
        split = "train" if self.train else "test"
        folders = [self.root / name for name in self.folders]
        found, failure = [], None
        for resource in self.resources[split]:
            copy = find_verified(resource, folders)
            if copy is None and allow_download and failure is None:
                try:
                    download_resource(resource, folders[0], self.mirrors)
                    copy = find_verified(resource, folders[:1])
                except DownloadError as err:
                    failure = str(err)
            if copy is None:
                self._refuse_bad_copies(resource, folders, failure)
            else:
                found.append(copy)
        if len(found) == 2:
            (image_bytes, image_path), (label_bytes, label_path) = found
            images, labels = self._parse(image_bytes, image_path, label_bytes, label_path)
            return images, labels, f"full: {image_path.parent}"
        reason = (f"no {split} files with matching checksums in {', '.join(map(str, folders))}"
                  + (f" and the download failed ({failure})" if failure else
                     "" if allow_download else " (download=False)"))
        if self.offline_subset is None:
            raise RuntimeError(f"{type(self).__name__}: {reason}. Pass download=True, or point root= or "
                               "the TINYNET_DATA environment variable at a folder that holds them.")
        warnings.warn(f"{type(self).__name__}: {reason}; using the small offline subset shipped with "
                      "tinynet instead (10,000 train / 2,000 test real MNIST digits, see docs/data.md). "
                      "Results on it are not comparable to full-MNIST results. Point root= or "
                      "TINYNET_DATA at the full data, or pass download=True.", DataWarning, stacklevel=3)
        return (*load_offline_subset(self.train), OFFLINE_SUBSET)

    def _refuse_bad_copies(self, resource: Resource, folders: list[Path], failure: str | None) -> None:
        """Stop when ``resource`` is on disk but corrupt: the offline subset stands in only for data
        that is absent, never for a full set that is damaged."""
        bad = copies_of(resource, folders)
        if bad:
            download = f", and the download failed ({failure})" if failure else ""
            raise RuntimeError(
                f"{type(self).__name__}: {', '.join(map(str, bad))} is not a good copy of "
                f"{resource.filename} (its checksum matches neither the published file nor its content: "
                f"corrupt, truncated or a different file){download}. Delete it and run again with "
                f"download=True, or replace it with the published {resource.filename} (md5 {resource.md5}).")

    def _parse(self, image_bytes: bytes, image_path: Path, label_bytes: bytes,
               label_path: Path) -> tuple[numpy.ndarray, numpy.ndarray]:
        images, labels = read_idx(image_bytes, str(image_path)), read_idx(label_bytes, str(label_path))
        if images.ndim != 3 or images.dtype != numpy.uint8:
            raise ValueError(f"{type(self).__name__}: {image_path} holds {images.dtype} of shape "
                             f"{images.shape}, expected uint8 images (N, H, W)")
        if labels.ndim != 1 or labels.dtype != numpy.uint8 or len(labels) != len(images):
            raise ValueError(f"{type(self).__name__}: {label_path} holds {labels.dtype} of shape "
                             f"{labels.shape}, expected {len(images)} uint8 labels")
        if labels.size and labels.max() >= len(self.classes):
            raise ValueError(f"{type(self).__name__}: {label_path} has label {labels.max()}, "
                             f"expected 0..{len(self.classes) - 1}")
        return images, labels.astype(numpy.int64)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando, MIT licence): 28x28 grey images of 10 kinds of clothing, in MNIST's
    IDX format and sizes. Looked for in ``<root>/fashion-mnist`` (or ``<root>/FashionMNIST/raw``);
    there is no offline fallback.

    >>> test = FashionMNIST(train=False)  # doctest: +SKIP
    >>> test.classes[test[0][1]]  # doctest: +SKIP
    'Ankle boot'
    """

    folders = ("fashion-mnist", "FashionMNIST/raw")
    mirrors = ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
               "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"]
    resources = {
        "train": (Resource("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                           "f4a8712d7a061bf5bd6d2ca38dc4d50a", 26421880, 47040016),
                  Resource("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe",
                           "9018921c3c673c538a1fc5bad174d6f9", 29515, 60008)),
        "test": (Resource("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79",
                          "8181f5470baa50b63fa0f6fddb340f0a", 4422102, 7840016),
                 Resource("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310",
                          "15d484375f8d13e6eb1aabb0c3f46965", 5148, 10008)),
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot"]
    offline_subset = None


def load_offline_subset(train: bool = True) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The MNIST subset shipped with tinynet: ``(images uint8 (N, 28, 28), labels int64 (N,))``,
    10,000 training or 2,000 test digits (built by ``scripts/build_mnist_subset.py``)."""
    split = "train" if train else "test"
    asset = importlib.resources.files("tinynet.data") / "assets" / MNIST.offline_subset
    with asset.open("rb") as file, numpy.load(file, allow_pickle=False) as arrays:
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if images.dtype != numpy.uint8 or images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise RuntimeError(f"the offline MNIST subset ({asset}) is damaged: {split} images "
                           f"{images.dtype} {images.shape}, labels {labels.shape}; reinstall tinynet")
    return images, labels.astype(numpy.int64)


# ----------------------------------------------------------------------------- CIFAR-10
def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """How a Python 3 pickle (protocol < 3) stores ``bytes``: ``_codecs.encode(text, 'latin1')``."""
    if encoding.replace("-", "").lower() != "latin1":
        raise pickle.UnpicklingError(f"CIFAR10: refusing _codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, "latin1")


_reconstruct_array = numpy.zeros(1).__reduce_ex__(2)[0]  # how pickle protocols 2-4 rebuild an array
_array_from_buffer = numpy.zeros(1).__reduce_ex__(5)[0]  # how protocol 5 does
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct_array,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct_array,
    ("numpy.core.numeric", "_frombuffer"): _array_from_buffer,
    ("numpy._core.numeric", "_frombuffer"): _array_from_buffer,
    ("numpy", "ndarray"): numpy.ndarray,
    ("numpy", "dtype"): numpy.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler for CIFAR's batches: it builds dicts, lists, strings, bytes, numbers and NumPy
    arrays, and refuses every other global (a pickle can otherwise run any code it names)."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(f"CIFAR10: refusing to unpickle the global {module}.{name}; "
                                         "a CIFAR batch holds only arrays, lists, dicts and bytes")
        return allowed


def restricted_loads(content: bytes) -> Any:
    """Unpickle ``content`` with :class:`RestrictedUnpickler` (Python 2 strings read as latin-1)."""
    return RestrictedUnpickler(io.BytesIO(content), encoding="latin1").load()


class CIFAR10(_ImageArrayDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images, 32x32, in 10 classes.

    Read from the official python batches: the archive ``cifar-10-python.tar.gz`` in
    ``<root>/cifar-10`` or ``<root>``, or its unpacked ``cifar-10-batches-py`` folder there.
    Every checksum is verified before anything is unpickled, and the batches are unpickled with
    :class:`RestrictedUnpickler`. ``download=True`` fetches the archive when missing or bad.

    When the official batches can't be had, the offline JPEG copy
    (``<root>/cifar10-jpeg/CIFAR-10-images-d7d0561.tar.gz``) is read instead, with a
    :class:`DataWarning`: its images are lossy (mean absolute error about 5.8/255) and in another
    order, so ``source`` records ``'jpeg-copy (lossy): <path>'``. ``data`` is uint8 (N, 32, 32, 3).

    >>> test = CIFAR10(train=False)  # doctest: +SKIP
    >>> test[0][0].shape, test.classes[test[0][1]]  # doctest: +SKIP
    ((3, 32, 32), 'cat')
    """

    folders = ("cifar-10", "")
    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    archive = Resource("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a", size=170498071)
    batch_folder = "cifar-10-batches-py"
    train_batches = (Resource("data_batch_1", "c99cafc152244af753f735de768cd75f"),
                     Resource("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
                     Resource("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
                     Resource("data_batch_4", "634d18415352ddfa80567beed471001a"),
                     Resource("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"))
    test_batches = (Resource("test_batch", "40351d587109b95175f43aff81a1287e"),)
    jpeg_copy = Resource("cifar10-jpeg/CIFAR-10-images-d7d0561.tar.gz", "39eeb9170fa04bc0bc4643091ee1f95e")
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def _load(self, allow_download: bool) -> tuple[numpy.ndarray, numpy.ndarray, str]:
        folders = [self.root / name for name in self.folders]
        batches = self.train_batches if self.train else self.test_batches
        for folder in folders:
            unpacked = [find_verified(batch, [folder / self.batch_folder]) for batch in batches]
            if all(unpacked):
                return (*self._unpickle([content for content, _ in unpacked]),
                        f"full: {folder / self.batch_folder}")
        failure = None
        copy = find_verified(self.archive, folders)
        if copy is None and allow_download:
            try:
                download_resource(self.archive, folders[0], self.mirrors)
                copy = find_verified(self.archive, folders[:1])
            except DownloadError as err:
                failure = str(err)
        if copy is not None:
            tar_bytes, path = copy  # find_verified has decompressed the verified .tar.gz
            return (*self._unpickle(self._batches_from_tar(tar_bytes, path, batches)), f"full: {path}")
        reason = (f"no official batches with matching checksums in {', '.join(map(str, folders))}"
                  + (f" and the download failed ({failure})" if failure else
                     "" if allow_download else " (download=False)"))
        jpeg_path = self.root / self.jpeg_copy.filename
        if jpeg_path.is_file():
            if md5_of_file(jpeg_path) != self.jpeg_copy.md5:
                warnings.warn(f"CIFAR10: {jpeg_path} does not match its md5 {self.jpeg_copy.md5}; "
                              "ignored", DataWarning, stacklevel=3)
            else:
                warnings.warn(f"CIFAR10: {reason}; reading the offline JPEG copy {jpeg_path} instead. "
                              "Its images are lossy (JPEG quality 75, mean absolute error about 5.8/255) "
                              "and ordered by class, so results differ slightly from official CIFAR-10.",
                              DataWarning, stacklevel=3)
                data, targets, classes = read_image_archive(jpeg_path, "train/" if self.train else "test/")
                if classes != self.classes:
                    raise ValueError(f"CIFAR10: {jpeg_path} has classes {classes}, expected {self.classes}")
                return data, targets, f"jpeg-copy (lossy): {jpeg_path}"
        raise RuntimeError(f"CIFAR10: {reason}. Pass download=True, or point root= or the TINYNET_DATA "
                           "environment variable at a folder that holds cifar-10-python.tar.gz.")

    def _batches_from_tar(self, tar_bytes: bytes, path: Path, batches: tuple[Resource, ...]) -> list[bytes]:
        contents = []
        with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
            for batch in batches:
                name = f"{self.batch_folder}/{batch.filename}"
                try:
                    content = tar.extractfile(name).read()
                except (KeyError, AttributeError):
                    raise ValueError(f"CIFAR10: {path} has no file {name}") from None
                if md5_of_bytes(content) != batch.md5:
                    raise ValueError(f"CIFAR10: {name} in {path} does not match its md5 {batch.md5}")
                contents.append(content)
        return contents

    def _unpickle(self, contents: list[bytes]) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The images (N, 32, 32, 3) and labels of checksum-verified batch files."""
        images, labels = [], []
        for content in contents:
            batch = restricted_loads(content)
            pixels = batch.get("data") if isinstance(batch, dict) else None
            if (not isinstance(pixels, numpy.ndarray) or pixels.dtype != numpy.uint8 or pixels.ndim != 2
                    or pixels.shape[1] != 3 * 32 * 32 or len(batch.get("labels", ())) != len(pixels)):
                raise ValueError("CIFAR10: a batch is not a dict with 'data' (uint8, N x 3072) and "
                                 "N 'labels'")
            images.append(pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            labels.append(numpy.asarray(batch["labels"], dtype=numpy.int64))
        return numpy.ascontiguousarray(numpy.concatenate(images)), numpy.concatenate(labels)
