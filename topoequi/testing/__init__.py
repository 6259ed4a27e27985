"""Test helpers, usable by downstream users too."""
from topoequi.testing.equivariance import POSITIONS, assert_equivariant, equivariance_error
from topoequi.testing.equivariance_plot import plot_equivariance_degree
from topoequi.testing.image_equivariance import (
    assert_image_equivariant,
    grid_elements,
    image_equivariance_error,
    transform_image,
)

__all__ = ["POSITIONS", "assert_equivariant", "assert_image_equivariant", "equivariance_error", "grid_elements",
           "image_equivariance_error", "plot_equivariance_degree", "transform_image"]
