r"""The contrast transfer function with RELION's conventions.

.. math::
    \mathrm{CTF}(f) = -\sin\Big(-\pi \lambda \Delta f(\alpha) |f|^2 + \tfrac{\pi}{2} C_s \lambda^3 |f|^4
    - \phi - \arctan\tfrac{Q_0}{\sqrt{1 - Q_0^2}}\Big)\, e^{-B |f|^2 / 4},

with :math:`|f|` in 1/Angstrom, the defocus along the direction :math:`\alpha` of :math:`f`
:math:`\Delta f(\alpha) = \bar u + \delta \cos 2(\alpha - \alpha_{ast})`,
:math:`\bar u = (U + V) / 2`, :math:`\delta = (U - V) / 2` (positive = underfocus), the electron
wavelength :math:`\lambda = 12.2643247 / \sqrt{E (1 + 0.978466 \cdot 10^{-6} E)}` Angstrom at
voltage :math:`E` (volts), :math:`C_s` in mm, amplitude contrast :math:`Q_0`, phase shift
:math:`\phi` and B-factor :math:`B` (Angstrom squared), as RELION's ``rlnDefocusU``, ``rlnDefocusV``,
``rlnDefocusAngle``, ``rlnVoltage``, ``rlnSphericalAberration``, ``rlnAmplitudeContrast``,
``rlnPhaseShift``, ``rlnCtfBfactor``. At :math:`f = 0` it equals :math:`Q_0`.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from topoequi.cryoem.projector import image_frequencies

CTF_FIELDS = ("defocus_u", "defocus_v", "defocus_angle", "voltage", "spherical_aberration",
              "amplitude_contrast", "phase_shift", "bfactor")
"""The per-image CTF parameters, in the column order of a ``[B, 8]`` CTF tensor (Angstrom, degrees,
kV, mm, fraction, degrees, Angstrom squared)."""


def electron_wavelength(voltage_kv: Tensor | float) -> Tensor:
    """Relativistic electron wavelength (Angstrom) at ``voltage_kv`` kilovolts."""
    volts = torch.as_tensor(voltage_kv, dtype=torch.float64) * 1e3
    return 12.2643247 / torch.sqrt(volts * (1 + 0.978466e-6 * volts))


def ctf_image(params: Tensor, size: int, pixel_size: float) -> Tensor:
    """The CTF ``[B, N, N]`` on :func:`~topoequi.cryoem.projector.image_frequencies` for parameters
    ``[B, 8]`` in the order of :data:`CTF_FIELDS`, at ``pixel_size`` Angstrom per pixel."""
    if params.dim() != 2 or params.shape[1] != len(CTF_FIELDS):
        raise ValueError(f"ctf_image: params must be [B, {len(CTF_FIELDS)}] ({', '.join(CTF_FIELDS)}), "
                         f"got {list(params.shape)}")
    p = params.to(torch.float64)[:, :, None, None]
    fx, fy = image_frequencies(size, torch.float64, params.device)
    fx, fy = fx / pixel_size, fy / pixel_size
    f2 = fx**2 + fy**2
    alpha = torch.atan2(fy, fx)
    du, dv, angle, kv, cs, q0, phase, bfactor = p.unbind(1)
    lam = electron_wavelength(kv).to(params.device)
    defocus = (du + dv) / 2 + (du - dv) / 2 * torch.cos(2 * (alpha - torch.deg2rad(angle)))
    chi = (-math.pi * lam * defocus * f2 + math.pi / 2 * cs * 1e7 * lam**3 * f2**2
           - torch.deg2rad(phase) - torch.atan(q0 / torch.sqrt(1 - q0**2)))
    return (-torch.sin(chi) * torch.exp(-bfactor * f2 / 4)).to(params.dtype)
