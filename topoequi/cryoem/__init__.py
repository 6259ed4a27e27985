"""Cryo-EM: rotations and pose alignment, the Fourier-slice projector, the CTF, FSC, simulation and
``.mrcs`` / ``.star`` stacks, for amortized pose inference (de Ruijter & Cesa, 2024,
https://arxiv.org/abs/2406.01630)."""
from topoequi.cryoem.ctf import CTF_FIELDS, ctf_image, electron_wavelength
from topoequi.cryoem.density_map import load_density_map
from topoequi.cryoem.fsc import fourier_shell_correlation, fsc_resolution, fsc_resolutions
from topoequi.cryoem.gaussians import gaussian_volume, project_gaussians
from topoequi.cryoem.projector import project, render, volume_spectrum
from topoequi.cryoem.rotations import (
    Alignment,
    align_rotations,
    cube_rotations,
    euler_to_matrix,
    geodesic_distance,
    gram_schmidt,
    matrix_to_euler,
    random_rotations,
    view_concentration,
)
from topoequi.cryoem.simulate import ParticleStack, simulate_stack

__all__ = [
    "CTF_FIELDS",
    "Alignment",
    "ParticleStack",
    "align_rotations",
    "ctf_image",
    "cube_rotations",
    "electron_wavelength",
    "euler_to_matrix",
    "fourier_shell_correlation",
    "fsc_resolution",
    "fsc_resolutions",
    "gaussian_volume",
    "geodesic_distance",
    "gram_schmidt",
    "load_density_map",
    "matrix_to_euler",
    "project",
    "project_gaussians",
    "random_rotations",
    "render",
    "simulate_stack",
    "view_concentration",
    "volume_spectrum",
]
