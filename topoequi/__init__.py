"""topoequi: topological and equivariant deep learning on PyTorch Geometric."""

__version__ = "0.1.0"
