"""topoequi: topological and equivariant deep learning on PyTorch Geometric."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``topoequi.load`` is imported on first use, so that ``import topoequi`` stays fast."""
    if name == "load":
        from topoequi.inference import load

        return load
    raise AttributeError(f"module 'topoequi' has no attribute {name!r}")
