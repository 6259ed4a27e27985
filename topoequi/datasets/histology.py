"""Real immunohistochemistry patches from the image shipped with scikit-image, labelled by stain."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data, InMemoryDataset

from topoequi.typing import WITH_SKIMAGE

SPLITS = ("train", "test")


def ihc_image() -> np.ndarray:
    """The 512x512 RGB immunohistochemistry image of ``skimage.data.immunohistochemistry``: colonic
    glands, DAB (brown) revealing the FHL2 protein, hematoxylin (blue) counterstaining; shipped in the
    scikit-image wheel, read offline."""
    if not WITH_SKIMAGE:
        raise ImportError("IHCPatches: the image ships with scikit-image (pip install scikit-image)")
    from skimage import data
    return data.immunohistochemistry()


def dab_density(image: np.ndarray) -> Tensor:
    """The DAB optical density ``[H, W]`` of an RGB image, by color deconvolution (Ruifrok & Johnston)."""
    from skimage.color import rgb2hed
    return torch.from_numpy(rgb2hed(image)[..., 2].astype(np.float32))


def ihc_patches(size: int = 33, stride: int = 16, split: str = "train") -> tuple[Tensor, Tensor]:
    r"""Patches ``[N, 3, size, size]`` (in [0, 1]) of :func:`ihc_image` on a ``stride`` grid and their
    labels ``[N]``: 1 when the mean DAB density of the central ``size // 3`` square exceeds the median
    over all patches of both splits (balanced classes; the label of a patch, like PCam's, depends only
    on its center, and is invariant to its rotations and flips). ``train``: patches inside the top
    half of the image, ``test``: inside the bottom half (no shared pixel).

    Args:
        size (int, optional): patch side. (default: ``33``)
        stride (int, optional): grid step. (default: ``16``)
        split (str, optional): ``"train"`` or ``"test"``. (default: ``"train"``)
    """
    if split not in SPLITS:
        raise ValueError(f"IHCPatches: split must be 'train' or 'test', got {split!r}")
    for arg, value, top in (("size", size, 256), ("stride", stride, 256)):
        if isinstance(value, bool) or not isinstance(value, int) or not 3 <= value <= top:
            raise ValueError(f"IHCPatches: {arg} must be an int in [3, {top}], got {value!r}")
    image = ihc_image()
    pixels = torch.from_numpy(image).permute(2, 0, 1).float() / 255.0  # [3, 512, 512]
    dab = dab_density(image)
    half = image.shape[0] // 2
    center, offset = size // 3, (size - size // 3) // 2
    starts = range(0, image.shape[1] - size + 1, stride)
    rows = {"train": range(0, half - size + 1, stride), "test": range(half, image.shape[0] - size + 1, stride)}
    box = F.avg_pool2d(dab[None, None], center, stride=1)[0, 0]  # box[i, j]: mean of dab[i:i+center, j:j+center]
    scores = {s: box[torch.tensor(rows[s])[:, None] + offset, torch.tensor(starts)[None] + offset].reshape(-1)
              for s in SPLITS}
    threshold = torch.cat(list(scores.values())).median()
    patches = torch.stack([pixels[:, r:r + size, c:c + size] for r in rows[split] for c in starts])
    return patches, (scores[split] > threshold).long()


class IHCPatches(InMemoryDataset):
    r"""Real immunohistochemistry patches (:func:`ihc_patches`): is the center of the patch
    DAB-positive? A small offline histology task with no preferred orientation. Each sample is a
    ``Data`` with ``image`` ``[1, 3, size, size]`` and ``y`` ``[1]``.

    Args:
        split (str, optional): ``"train"`` (top half of the image) or ``"test"``. (default: ``"train"``)
        size (int, optional): patch side. (default: ``33``)
        stride (int, optional): grid step. (default: ``16``)
    """

    def __init__(self, split: str = "train", size: int = 33, stride: int = 16):
        super().__init__(None)
        images, labels = ihc_patches(size, stride, split)
        self.data, self.slices = self.collate([Data(image=images[i][None], y=labels[i].view(1))
                                               for i in range(images.shape[0])])
