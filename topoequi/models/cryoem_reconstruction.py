r"""Amortized cryo-EM reconstruction: a pose encoder and a voxel volume rendered by the Fourier-slice theorem."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from topoequi.cryoem.projector import render, volume_spectrum
from topoequi.models.cryoem_pose_encoder import CryoPoseEncoder, in_plane_rotation


class VoxelVolumeDecoder(nn.Module):
    r"""An explicit voxel volume :math:`V \in \mathbb{R}^{N^3}` rendered at given poses, shifts and CTFs
    through its oversampled spectrum (:func:`~topoequi.cryoem.projector.render`):

    .. math::
        \hat y = \mathcal{F}^{-1}\big[\mathrm{CTF} \cdot e^{-2\pi i f \cdot t}\, \hat V(R^\top f)\big].

    The spectrum is the DFT of the real volume, so it stays Hermitian and the volume real and
    confined to its box; one spectrum per batch serves all its images.

    Args:
        size (int): :math:`N`.
        pad (float, optional): oversampling of the spectrum. (default: ``2.0``)
        interpolation (str, optional): ``"linear"`` (fast) or ``"cubic"`` slices. (default: ``"linear"``)

    Shapes:
        - **input:** rotations :math:`(B, 3, 3)`, shifts :math:`(B, 2)`, ctf :math:`(B, N, N)` or ``None``
        - **output:** images :math:`(B, 1, N, N)`
    """

    def __init__(self, size: int, pad: float = 2.0, interpolation: str = "linear"):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 2:
            raise ValueError(f"VoxelVolumeDecoder: size must be an int >= 2, got {size!r}")
        if interpolation not in ("linear", "cubic"):
            raise ValueError(f"VoxelVolumeDecoder: interpolation must be 'linear' or 'cubic', got {interpolation!r}")
        self.size, self.pad, self.interpolation = size, float(pad), interpolation
        self.volume = nn.Parameter(torch.empty(size, size, size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.volume)

    def forward(self, rotations: Tensor, shifts: Tensor | None = None, ctf: Tensor | None = None) -> Tensor:
        spectrum = volume_spectrum(self.volume, self.pad)
        return render(spectrum, rotations, self.size, shifts, ctf, self.interpolation)[:, None]

    def __repr__(self) -> str:
        return f"VoxelVolumeDecoder(size={self.size}, pad={self.pad}, interpolation={self.interpolation})"


class AmortizedReconstruction(nn.Module):
    r"""cryoAI-style amortized inference (`"CryoAI" <https://arxiv.org/abs/2203.08138>`_, Levy et al. 2022):
    the encoder maps each image to a pose :math:`R` and shift :math:`t`, the decoder renders the volume
    there, and the loss is :math:`\|y - \hat y(R, t)\|^2`; with ``symmetric=True`` it is cryoAI's
    symmetric loss :math:`\min\big(\|y - \hat y(R, t)\|^2, \|y - \hat y(R_z(\pi) R, t)\|^2\big)`,
    the better of the pose and its 180-degree in-plane rotation.

    Args:
        encoder (CryoPoseEncoder): images to poses and shifts.
        decoder (VoxelVolumeDecoder): the volume.
        symmetric (bool, optional): use the symmetric loss. (default: ``False``)

    Shapes:
        - **input:** a batch with ``image`` :math:`(B, 1, N, N)` and ``ctf`` :math:`(B, N, N)`
        - **output:** ``{"rotation": (B, 3, 3), "shift": (B, 2), "loss": (B,)}``
    """

    def __init__(self, encoder: CryoPoseEncoder, decoder: VoxelVolumeDecoder, symmetric: bool = False):
        super().__init__()
        self.encoder, self.decoder, self.symmetric = encoder, decoder, bool(symmetric)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.decoder.reset_parameters()

    def forward(self, batch) -> dict[str, Tensor]:
        images, ctf = batch.image, getattr(batch, "ctf", None)
        rotations, shifts = self.encoder(images)
        loss = (images - self.decoder(rotations, shifts, ctf)).pow(2).mean((1, 2, 3))
        if self.symmetric:
            turned = in_plane_rotation(2.0, rotations.dtype).to(rotations.device) @ rotations
            loss = torch.minimum(loss, (images - self.decoder(turned, shifts, ctf)).pow(2).mean((1, 2, 3)))
        return {"rotation": rotations, "shift": shifts, "loss": loss}

    def __repr__(self) -> str:
        return f"AmortizedReconstruction({self.encoder}, {self.decoder}, symmetric={self.symmetric})"
