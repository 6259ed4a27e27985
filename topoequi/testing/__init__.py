"""Test helpers, usable by downstream users too."""
from topoequi.testing.equivariance import POSITIONS, assert_equivariant, equivariance_error
from topoequi.testing.equivariance_plot import plot_equivariance_degree

__all__ = ["POSITIONS", "assert_equivariant", "equivariance_error", "plot_equivariance_degree"]
