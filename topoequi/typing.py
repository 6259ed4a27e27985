"""Optional packages, guarded in one place.

Each ``WITH_X`` flag is ``True`` when the optional package imports; code that
can use an accelerator checks the flag, and tests that need one skip cleanly.
"""
from __future__ import annotations

import importlib.util


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


WITH_TORCH_CLUSTER = _has("torch_cluster")
WITH_PYG_LIB = _has("pyg_lib")
WITH_TORCH_SCATTER = _has("torch_scatter")
WITH_TORCH_SPARSE = _has("torch_sparse")
WITH_FPYLLL = _has("fpylll")
WITH_QM9PACK = _has("qm9pack")
WITH_RDKIT = _has("rdkit")
WITH_PANDAS = _has("pandas")
WITH_TENSORBOARD = _has("torch.utils.tensorboard") and _has("tensorboard")
WITH_PY3NJ = _has("py3nj")
WITH_GIOTTO_PH = _has("gph")
WITH_POT = _has("ot")
WITH_TORCH_TOPOLOGICAL = _has("torch_topological")
WITH_TORCHVISION = _has("torchvision")
WITH_H5PY = _has("h5py")
WITH_SKIMAGE = _has("skimage")
WITH_MRCFILE = _has("mrcfile")
WITH_STARFILE = _has("starfile")
WITH_TRITON = _has("triton")

OPTIONAL = {
    "torch_cluster": WITH_TORCH_CLUSTER,
    "pyg_lib": WITH_PYG_LIB,
    "torch_scatter": WITH_TORCH_SCATTER,
    "torch_sparse": WITH_TORCH_SPARSE,
    "fpylll": WITH_FPYLLL,
    "qm9pack": WITH_QM9PACK,
    "rdkit": WITH_RDKIT,
    "pandas": WITH_PANDAS,
    "tensorboard": WITH_TENSORBOARD,
    "py3nj": WITH_PY3NJ,
    "giotto-ph": WITH_GIOTTO_PH,
    "POT": WITH_POT,
    "torch-topological": WITH_TORCH_TOPOLOGICAL,
    "torchvision": WITH_TORCHVISION,
    "h5py": WITH_H5PY,
    "skimage": WITH_SKIMAGE,
    "mrcfile": WITH_MRCFILE,
    "starfile": WITH_STARFILE,
    "triton": WITH_TRITON,
}
