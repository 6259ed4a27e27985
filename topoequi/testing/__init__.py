"""Test helpers, usable by downstream users too."""
from topoequi.testing.equivariance import POSITIONS, assert_equivariant, equivariance_error

__all__ = ["assert_equivariant", "equivariance_error", "POSITIONS"]
