"""Image files: ``ImageFolder`` for ``root/<class>/<image>`` trees, and reading such trees
straight out of a ``.tar.gz`` archive. Decoding uses Pillow, imported only when needed
(``pip install 'tinynet[images]'``).
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import numpy

from tinynet.data.dataset import Dataset
from tinynet.tensor import Tensor

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _pillow_image() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading image files needs Pillow, which is not installed: "
                          "pip install 'tinynet[images]' (or pip install Pillow)") from None
    return Image


def decode_image(source: str | os.PathLike | bytes, name: str | None = None) -> numpy.ndarray:
    """An image file (a path, or its bytes) as a uint8 RGB array of shape (H, W, 3).

    A file Pillow can't decode (truncated, corrupt, not an image) or one with more pixels than
    ``PIL.Image.MAX_IMAGE_PIXELS`` (a possible decompression bomb, which Pillow only warns about
    up to twice that) raises ValueError naming the file (``name``, else the path).
    """
    image_module = _pillow_image()
    name = name or ("image data" if isinstance(source, bytes) else str(source))
    file = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", image_module.DecompressionBombWarning)
            with image_module.open(file) as image:
                return numpy.asarray(image.convert("RGB"), dtype=numpy.uint8)
    except (image_module.DecompressionBombWarning, image_module.DecompressionBombError) as err:
        raise ValueError(f"decode_image: {name} is refused as a possible decompression bomb: {err} "
                         "Raise PIL.Image.MAX_IMAGE_PIXELS if the file is trusted.") from None
    except FileNotFoundError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as err:  # what Pillow raises for bad files
        raise ValueError(f"decode_image: {name} is not a readable image ({err})") from None


def images_to_float(images: numpy.ndarray) -> numpy.ndarray:
    """uint8 images, (N, H, W) grey or (N, H, W, C) colour, as float32 in [0, 1] shaped (N, C, H, W)."""
    scaled = images.astype(numpy.float32) / numpy.float32(255)
    return scaled[:, None] if images.ndim == 3 else numpy.ascontiguousarray(scaled.transpose(0, 3, 1, 2))


def labelled_image(pixels: numpy.ndarray, label: Any, transform: Callable | None,
                   target_transform: Callable | None) -> tuple[Any, Any]:
    """One uint8 image as a float Tensor in [0, 1] (C, H, W) and its int label, transformed:
    the ``__getitem__`` of every image data set."""
    image: Any = Tensor(images_to_float(pixels[None])[0])
    target: Any = int(label)
    if transform is not None:
        image = transform(image)
    if target_transform is not None:
        target = target_transform(target)
    return image, target


class ImageFolder(Dataset):
    """Images in ``root/<class>/<name>.jpg|.jpeg|.png``, labelled by their folder, as torchvision's.

    Classes are the sub-folder names, sorted; ``class_to_idx`` maps each to its label;
    ``samples`` lists ``(path, label)``; ``targets`` holds the labels. An image is returned as a
    float32 Tensor in [0, 1] shaped (3, H, W) (greyscale files are converted to RGB), then
    passed to ``transform``.

    Images are decoded as they are asked for. ``preload=True`` (not in torchvision) decodes them
    all once into ``data``, a uint8 array (N, H, W, 3), so a DataLoader batches them without
    touching files; the images must then all have the same size.

    >>> train = ImageFolder("cifar10/train", preload=True)  # doctest: +SKIP
    >>> train.classes[:2], train.data.shape  # doctest: +SKIP
    (['airplane', 'automobile'], (50000, 32, 32, 3))
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, extensions: tuple[str, ...] = IMG_EXTENSIONS,
                 preload: bool = False) -> None:
        self.root = Path(root).expanduser()
        self.transform = transform
        self.target_transform = target_transform
        if not self.root.is_dir():
            raise FileNotFoundError(f"ImageFolder: {self.root} is not a folder")
        self.classes = sorted(entry.name for entry in os.scandir(self.root) if entry.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"ImageFolder: {self.root} has no class sub-folders "
                                    "(root/<class>/<image>)")
        self.class_to_idx = {name: label for label, name in enumerate(self.classes)}
        self.samples = [(path, self.class_to_idx[name]) for name in self.classes
                        for path in sorted((self.root / name).rglob("*"))
                        if path.suffix.lower() in extensions and path.is_file()]
        if not self.samples:
            raise FileNotFoundError(f"ImageFolder: no {'/'.join(extensions)} files under the class "
                                    f"folders of {self.root}")
        self.targets = numpy.array([label for _, label in self.samples], dtype=numpy.int64)
        self.data: numpy.ndarray | None = self._decode_all() if preload else None

    def _decode_all(self) -> numpy.ndarray:
        images, failures = [], []
        for path, _ in self.samples:
            try:
                images.append(decode_image(path))
            except ValueError as err:
                failures.append(str(err).removeprefix("decode_image: "))
        if failures:
            raise ValueError(f"ImageFolder(preload=True): {len(failures)} of the {len(self.samples)} images "
                             f"in {self.root} can't be read:\n  " + "\n  ".join(failures))
        shapes = {image.shape for image in images}
        if len(shapes) != 1:
            raise ValueError(f"ImageFolder(preload=True): images in {self.root} differ in size "
                             f"({sorted(shapes)[:3]}…); preload needs one size")
        return numpy.stack(images)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        pixels = self.data[index] if self.data is not None else decode_image(self.samples[index][0])
        return labelled_image(pixels, self.targets[index], self.transform, self.target_transform)

    def get_batch(self, indices: numpy.ndarray) -> Any:
        if self.data is None or self.transform is not None or self.target_transform is not None:
            return super().get_batch(indices)
        return images_to_float(self.data[indices]), self.targets[indices]


def iter_archive_images(archive: str | os.PathLike, prefix: str = "") -> Iterator[tuple[str, str, bytes]]:
    """``(class name, member name, file bytes)`` for each image ``<prefix><class>/<file>`` of a tar
    archive, in archive order, streaming (nothing is extracted; stop early to read only a few)."""
    prefix_parts = PurePosixPath(prefix).parts if prefix else ()
    with tarfile.open(archive, mode="r|*") as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            if (member.isfile() and len(parts) == len(prefix_parts) + 2 and parts[:-2] == prefix_parts
                    and PurePosixPath(member.name).suffix.lower() in IMG_EXTENSIONS):
                yield parts[-2], member.name, tar.extractfile(member).read()


def read_image_archive(archive: str | os.PathLike, prefix: str = "",
                       limit: int | None = None) -> tuple[numpy.ndarray, numpy.ndarray, list[str]]:
    """The images ``<prefix><class>/<file>`` of a tar(.gz) archive, decoded without extracting:
    ``(data, targets, classes)`` with ``data`` uint8 (N, H, W, 3), labels the indices of the sorted
    class names. ``limit`` stops after that many images.

    >>> archive = "CIFAR-10-images-d7d0561.tar.gz"
    >>> data, targets, classes = read_image_archive(archive, "test/")  # doctest: +SKIP
    """
    images, names = [], []
    for class_name, member, content in iter_archive_images(archive, prefix):
        if limit is not None and len(images) >= limit:
            break
        images.append(decode_image(content, f"{member} in {archive}"))
        names.append(class_name)
    if not images:
        raise FileNotFoundError(f"read_image_archive: no images matching {prefix or ''}<class>/<file> "
                                f"in {archive}")
    classes = sorted(set(names))
    class_to_idx = {name: label for label, name in enumerate(classes)}
    return numpy.stack(images), numpy.array([class_to_idx[n] for n in names], dtype=numpy.int64), classes


def extract_archive(archive: str | os.PathLike, destination: str | os.PathLike) -> Path:
    """Unpack a tar(.gz) archive into ``destination`` (which must not exist yet), safely: members
    that would land outside it (absolute paths, ``..``, links) are refused. The archive is unpacked
    into a temporary folder that is renamed to ``destination`` only once complete.

    Unpacking the 60,000 JPEGs of the offline CIFAR-10 copy takes a while; reading it with
    :func:`read_image_archive` is usually quicker.

    >>> extract_archive("CIFAR-10-images-d7d0561.tar.gz", "~/cifar10-jpeg")  # doctest: +SKIP
    PosixPath('~/cifar10-jpeg')
    """
    destination = Path(destination).expanduser()
    if destination.exists():
        raise FileExistsError(f"extract_archive: {destination} already exists")
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f".{destination.name}."))
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                parts = PurePosixPath(member.name).parts
                if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
                    raise ValueError(f"extract_archive: refusing member {member.name!r} of {archive}")
            tar.extractall(temporary, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        os.replace(temporary, destination)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary)
    return destination
