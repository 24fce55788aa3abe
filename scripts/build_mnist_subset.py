"""Build tinynet/data/assets/mnist_subset.npz, the offline MNIST subset shipped with tinynet.

Provenance: the four original MNIST IDX files (LeCun, Cortes and Burges; the copy in
``$TINYNET_DATA/mnist``, each checked by its md5 before use). The subset is *stratified and
seeded*: from the 60,000 training digits it takes 1,000 of each class, from the 10,000 test
digits 200 of each class, chosen by ``numpy.random.default_rng(SEED)`` (a permutation per
class, first k taken), then sorted back into the original file order. Pixels and labels are
unchanged (uint8 28x28, labels 0-9).

The .npz (``numpy.savez_compressed``) holds ``train_images`` (10000, 28, 28) uint8,
``train_labels`` (10000,) uint8, ``train_indices`` (positions in the original training file),
and the same three for ``test``, plus ``seed`` and ``source_md5`` (the decompressed md5 of
each original file), so any digit can be traced back to the original set.

Usage (from the repository root):
    python scripts/build_mnist_subset.py [--root $TINYNET_DATA] [--out tinynet/data/assets/mnist_subset.npz]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, installed or not
from tinynet.data import MNIST, find_verified, read_idx  # noqa: E402

SEED = 0
PER_CLASS = {"train": 1000, "test": 200}
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tinynet" / "data" / "assets" / "mnist_subset.npz"


def stratified_indices(labels: numpy.ndarray, per_class: int, rng: numpy.random.Generator) -> numpy.ndarray:
    """``per_class`` random positions of each label, sorted into file order."""
    chosen = [rng.permutation(numpy.flatnonzero(labels == digit))[:per_class] for digit in range(10)]
    return numpy.sort(numpy.concatenate(chosen))


def build(root: Path, out: Path) -> None:
    folders = [root / name for name in MNIST.folders]
    rng = numpy.random.default_rng(SEED)
    arrays: dict[str, numpy.ndarray] = {"seed": numpy.array(SEED)}
    checksums = []
    for split, per_class in PER_CLASS.items():
        images_resource, labels_resource = MNIST.resources[split]
        found = [find_verified(resource, folders) for resource in (images_resource, labels_resource)]
        if None in found:
            sys.exit(f"MNIST {split} files with the right checksums are not in {folders}")
        images, labels = read_idx(found[0][0]), read_idx(found[1][0])
        indices = stratified_indices(labels, per_class, rng)
        arrays[f"{split}_images"] = images[indices]
        arrays[f"{split}_labels"] = labels[indices]
        arrays[f"{split}_indices"] = indices.astype(numpy.int32)
        checksums += [f"{r.filename}:{r.raw_md5}" for r in (images_resource, labels_resource)]
    arrays["source_md5"] = numpy.array(checksums)
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".npz")
    try:
        with os.fdopen(descriptor, "wb") as file:
            numpy.savez_compressed(file, **arrays)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; package data must be readable by all
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    counts = {split: numpy.bincount(arrays[f"{split}_labels"], minlength=10).tolist() for split in PER_CLASS}
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): per-class counts {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_root = os.environ.get("TINYNET_DATA", str(Path.home() / ".cache" / "tinynet"))
    parser.add_argument("--root", type=Path, default=Path(default_root),
                        help="data root holding mnist/ (default: $TINYNET_DATA, else ~/.cache/tinynet)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    build(args.root, args.out)


if __name__ == "__main__":
    main()
