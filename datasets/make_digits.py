"""Regenerate ``datasets/digits.npz``, the 1,797 handwritten digits embedded in the repository.

Recipe: read the UCI "Optical Recognition of Handwritten Digits" test set as
scikit-learn ships it (``sklearn.datasets.load_digits``: 1,797 images of 8x8
pixels, intensities 0..16), and store images and labels unchanged.

    pip install scikit-learn
    python datasets/make_digits.py            # writes datasets/digits.npz
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).with_name("digits.npz")))
    args = parser.parse_args()
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.uint8)  # [1797, 8, 8], 0..16
    labels = digits.target.astype(np.int8)
    np.savez_compressed(args.out, images=images, labels=labels)
    print(f"wrote {args.out}: {images.shape[0]} images, class counts {np.bincount(labels).tolist()}")


if __name__ == "__main__":
    main()
