"""Test helpers, usable by downstream users too."""
from topoequi.testing.equivariance import POSITIONS, assert_equivariant, equivariance_error

__all__ = ["POSITIONS", "assert_equivariant", "equivariance_error"]
