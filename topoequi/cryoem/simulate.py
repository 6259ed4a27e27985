r"""Simulated particle stacks: projections at uniform random poses, shifts, CTF and Gaussian noise.

Each image is :math:`y = \mathcal{F}^{-1}\big[\mathrm{CTF} \cdot e^{-2\pi i f\cdot t}\,
\hat V(R^\top f)\big] + \epsilon`, :math:`\epsilon \sim \mathcal{N}(0, \sigma^2)` with
:math:`\sigma^2 = \mathrm{Var}(\text{clean images}) / \mathrm{SNR}` over the whole stack.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from topoequi.cryoem.ctf import ctf_image
from topoequi.cryoem.projector import check_volume, render, volume_spectrum
from topoequi.cryoem.rotations import euler_to_matrix, matrix_to_euler, random_rotations


@dataclass
class ParticleStack:
    """Particle images and their parameters.

    Attributes:
        images: ``[n, N, N]`` float32, pixel ``(i, j)`` at ``(j - c, c - i)``.
        angles: ``[n, 3]`` float64 RELION Euler angles ``(rot, tilt, psi)`` in degrees (the poses).
        shifts: ``[n, 2]`` float64 in-plane shifts ``(t_x, t_y)`` in pixels.
        ctf: ``[n, 8]`` float64 CTF parameters in the order of :data:`~topoequi.cryoem.ctf.CTF_FIELDS`.
        pixel_size: Angstrom per pixel.
    """

    images: Tensor
    angles: Tensor
    shifts: Tensor
    ctf: Tensor
    pixel_size: float

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def size(self) -> int:
        return self.images.shape[-1]

    @property
    def rotations(self) -> Tensor:
        """The poses ``[n, 3, 3]`` float64."""
        return euler_to_matrix(*self.angles.unbind(-1))

    def to_data_list(self) -> list:
        """One PyG ``Data`` per particle (``image [1, 1, N, N]``, ``rotation [1, 3, 3]``, ``shift [1, 2]``,
        ``ctf [1, N, N]`` the CTF image), so that PyG's ``DataLoader`` batches them."""
        from torch_geometric.data import Data

        ctf = ctf_image(self.ctf, self.size, self.pixel_size).float()
        rotations = self.rotations.float()
        return [Data(image=self.images[i, None, None], rotation=rotations[i, None], shift=self.shifts[i, None].float(),
                     ctf=ctf[i, None], num_nodes=1) for i in range(len(self))]


def simulate_stack(volume: Tensor, n: int, pixel_size: float, snr: float = 0.1,
                   defocus: tuple[float, float] = (10000.0, 25000.0), astigmatism: float = 500.0,
                   voltage: float = 300.0, cs: float = 2.7, amplitude_contrast: float = 0.1,
                   bfactor: float = 0.0, shift_std: float = 1.0, pad: float = 3.0, seed: int = 0,
                   batch: int = 256) -> ParticleStack:
    """Simulate ``n`` particle images of ``volume`` ``[N, N, N]``.

    Args:
        volume: the density (voxel size ``pixel_size``).
        n: number of images.
        pixel_size: Angstrom per pixel.
        snr: signal-to-noise ratio (variance of the clean images over that of the noise); ``inf``: none.
        defocus: range (Angstrom) of the mean defocus, drawn uniformly.
        astigmatism: :math:`U - V` (Angstrom), at a uniform random angle.
        voltage, cs, amplitude_contrast, bfactor: kV, mm, fraction, Angstrom squared.
        shift_std: standard deviation of the in-plane shifts (pixels).
        pad: oversampling of the projector.
        seed: seed of poses, shifts, defoci and noise.
        batch: images rendered at once.
    """
    size = check_volume(volume, "simulate_stack: volume")
    if not (isinstance(n, int) and n > 0):
        raise ValueError(f"simulate_stack: n must be a positive int, got {n!r}")
    if not snr > 0:
        raise ValueError(f"simulate_stack: snr must be positive, got {snr!r}")
    gen = torch.Generator().manual_seed(seed)
    angles = torch.stack(matrix_to_euler(random_rotations(n, gen)), -1)
    shifts = torch.randn(n, 2, generator=gen, dtype=torch.float64) * shift_std
    mean = defocus[0] + (defocus[1] - defocus[0]) * torch.rand(n, generator=gen, dtype=torch.float64)
    angle = 180.0 * torch.rand(n, generator=gen, dtype=torch.float64)
    constants = torch.tensor([voltage, cs, amplitude_contrast, 0.0, bfactor], dtype=torch.float64)
    ctf = torch.cat([torch.stack([mean + astigmatism / 2, mean - astigmatism / 2, angle], -1),
                     constants.expand(n, -1)], -1)
    spectrum = volume_spectrum(volume.to(torch.float64), pad)
    rotations = euler_to_matrix(*angles.unbind(-1))
    images = torch.cat([render(spectrum, rotations[s:s + batch], size, shifts[s:s + batch],
                               ctf_image(ctf[s:s + batch], size, pixel_size)) for s in range(0, n, batch)])
    if snr != float("inf"):
        sigma = (images.var() / snr).sqrt()
        images = images + sigma * torch.randn(images.shape, generator=gen, dtype=torch.float64)
    return ParticleStack(images.float(), angles, shifts, ctf, float(pixel_size))
