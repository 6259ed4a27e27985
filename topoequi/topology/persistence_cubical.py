r"""Differentiable persistence of cubical (sublevel-set) filtrations of images.

The pixels are the top-dimensional cells and every lower cell enters with its
first pixel (gudhi's ``top_dimensional_cells`` construction, V-construction:
edges and vertices take the minimum of the pixels around them). gudhi names the
pixel that created and the pixel that destroyed each class, so a diagram point is

.. math::
    (b, d) = \bigl(I[p_{\mathrm{birth}}],\ I[p_{\mathrm{death}}]\bigr),

a gather of pixel values read back in torch. See
:mod:`topoequi.topology.persistence` for the gradient and its behaviour at ties
(equal neighbouring pixels: gudhi picks one of them).
"""
from __future__ import annotations

import gudhi
import numpy as np
from torch import Tensor

from topoequi.topology.persistence import (
    Pairing,
    PersistenceDiagram,
    assemble,
    check_max_dim,
    concat_pairings,
)


def cubical_pairings(image: np.ndarray, max_dim: int) -> list[Pairing]:
    """Persistence pairs of the sublevel filtration of one image, as flat pixel indices in gudhi's
    (Fortran, first axis fastest) order."""
    complex_ = gudhi.CubicalComplex(top_dimensional_cells=image)
    complex_.compute_persistence()
    regular, essential = complex_.cofaces_of_persistence_pairs()

    def get(arrays: list, k: int, width: int) -> np.ndarray:
        return np.asarray(arrays[k], dtype=np.int64).reshape(-1, width) if len(arrays) > k \
            else np.zeros((0, width), dtype=np.int64)

    out = []
    for k in range(max_dim + 1):
        reg = get(regular, k, 2)
        out.append(Pairing(reg[:, :1], reg[:, 1:], get(essential, k, 1)))
    return out


def cubical_diagram(images: Tensor, max_dim: int = 1) -> PersistenceDiagram:
    r"""Persistence diagrams of the sublevel filtrations of images, differentiable in the pixel values.

    Superlevel sets (bright structure, e.g. ink on a dark background) are the sublevel sets of
    ``-images``.

    Args:
        images (Tensor ``[H, W]`` or ``[B, H, W]``, or ``[B, D1, ..., Dn]``): one image or a batch of
            images of the same shape (a leading batch axis is assumed when ``images`` has 3 or more axes).
        max_dim (int): highest homology dimension, below the image dimension. (default: ``1``)
    """
    owner = "cubical_diagram"
    if not isinstance(images, Tensor) or not images.is_floating_point() or images.dim() < 2:
        raise ValueError(f"{owner}: images must be a floating-point tensor [H, W] or [B, H, W], got "
                         f"{list(images.shape) if isinstance(images, Tensor) else type(images).__name__}")
    batch = images if images.dim() > 2 else images[None]
    check_max_dim(owner, max_dim, batch.dim() - 2)
    if batch.numel() == 0:
        raise ValueError(f"{owner}: images is empty (shape {list(images.shape)})")
    if not bool(batch.isfinite().all()):
        raise ValueError(f"{owner}: images holds NaN or infinite pixel values")
    pixels = batch[0].numel()
    array = batch.detach().cpu().double().numpy()
    parts = [cubical_pairings(image, max_dim) for image in array]
    pairings = concat_pairings(parts, [g * pixels for g in range(len(parts))], [1] * (max_dim + 2))
    flat = batch.permute(0, *range(batch.dim() - 1, 0, -1)).reshape(-1)   # each image in Fortran order
    return assemble(pairings, [lambda idx: flat[idx[:, 0]]] * (max_dim + 2), len(parts), images.device)
