r"""Amortized cryo-EM reconstruction: a pose encoder and a voxel volume rendered by the Fourier-slice theorem."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from topoequi.cryoem.projector import render, volume_spectrum
from topoequi.models.cryoem_pose_encoder import in_plane_rotation


class VoxelVolumeDecoder(nn.Module):
    r"""An explicit voxel volume :math:`V \in \mathbb{R}^{N^3}` rendered at given poses, shifts and CTFs
    through its oversampled spectrum (:func:`~topoequi.cryoem.projector.render`):

    .. math::
        \hat y = \mathcal{F}^{-1}\big[\mathrm{CTF} \cdot e^{-2\pi i f \cdot t}\, \hat V(R^\top f)\big].

    The spectrum is the DFT of the real volume, so it stays Hermitian and the volume real and
    confined to its box; one spectrum per batch serves all its images.

    With ``support`` :math:`r`, :meth:`project_` (called after each optimiser step) sets
    :math:`V \leftarrow \max(V, 0)` inside the sphere of radius :math:`r` voxels about the box centre
    :math:`(N - 1)/2` and :math:`0` outside: the positivity and spherical mask of classical refinement.

    Args:
        size (int): :math:`N`.
        pad (float, optional): oversampling of the spectrum. (default: ``2.0``)
        interpolation (str, optional): ``"linear"`` (fast) or ``"cubic"`` slices. (default: ``"linear"``)
        support (float, optional): :math:`r`; ``None``: no projection. (default: ``None``)

    Shapes:
        - **input:** rotations :math:`(B, 3, 3)`, shifts :math:`(B, 2)`, ctf :math:`(B, N, N)` or ``None``
        - **output:** images :math:`(B, 1, N, N)`
    """

    def __init__(self, size: int, pad: float = 2.0, interpolation: str = "linear", support: float | None = None):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 2:
            raise ValueError(f"VoxelVolumeDecoder: size must be an int >= 2, got {size!r}")
        if interpolation not in ("linear", "cubic"):
            raise ValueError(f"VoxelVolumeDecoder: interpolation must be 'linear' or 'cubic', got {interpolation!r}")
        if support is not None and not support > 0:
            raise ValueError(f"VoxelVolumeDecoder: support must be a positive radius in voxels, got {support!r}")
        self.size, self.pad, self.interpolation, self.support = size, float(pad), interpolation, support
        self.volume = nn.Parameter(torch.empty(size, size, size))
        if support is not None:
            axis = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
            radius = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).norm(dim=-1)
            self.register_buffer("inside", radius <= support, persistent=False)
        self.reset_parameters()

    @torch.no_grad()
    def project_(self) -> None:
        r""":math:`V \leftarrow \max(V, 0)` inside the support, :math:`0` outside (nothing without a support)."""
        if self.support is not None:
            self.volume.clamp_(min=0).mul_(self.inside)

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.volume)

    def forward(self, rotations: Tensor, shifts: Tensor | None = None, ctf: Tensor | None = None) -> Tensor:
        spectrum = volume_spectrum(self.volume, self.pad)
        return render(spectrum, rotations, self.size, shifts, ctf, self.interpolation)[:, None]

    def __repr__(self) -> str:
        support = "" if self.support is None else f", support={self.support}"
        return f"VoxelVolumeDecoder(size={self.size}, pad={self.pad}, interpolation={self.interpolation}{support})"


def soft_minimum(losses: Tensor, temperature: float) -> tuple[Tensor, Tensor]:
    r"""Over the last axis of ``losses`` ``[..., H]``: :math:`-T \log \operatorname{mean}_h e^{-L_h / T}` (the
    minimum at :math:`T = 0`, the mean as :math:`T \to \infty`), evaluated as
    :math:`m - T \log\big(1 + \operatorname{mean}_h \operatorname{expm1}(-(L_h - m) / T)\big)`,
    :math:`m = \min_h L_h`, which keeps its digits at any :math:`T`; and the index of the minimum."""
    best, winner = losses.min(-1)
    if temperature > 0 and losses.shape[-1] > 1:
        best = best - temperature * torch.log1p(torch.expm1((best[..., None] - losses) / temperature).mean(-1))
    return best, winner


class AmortizedReconstruction(nn.Module):
    r"""cryoAI-style amortized inference (`"CryoAI" <https://arxiv.org/abs/2203.08138>`_, Levy et al. 2022):
    the encoder maps each image to a pose :math:`R` and shift :math:`t`, the decoder renders the volume
    there, and the loss is :math:`L = \|y - \hat y(R, t)\|^2`; with ``symmetric=True`` it is cryoAI's
    symmetric loss :math:`\min\big(\|y - \hat y(R, t)\|^2, \|y - \hat y(R_z(\pi) R, t)\|^2\big)`,
    the better of the pose and its 180-degree in-plane rotation.

    An encoder with several hypotheses per image
    (:class:`~topoequi.models.cryoem_pose_hypotheses.PoseHypothesisEncoder`) gets the loss of its best one,
    :math:`\min_h L_h`, or with ``temperature`` :math:`T > 0` the soft minimum
    :math:`-T \log \operatorname{mean}_h e^{-L_h / T}` (between the minimum and the mean; every hypothesis
    weighted by its posterior at temperature :math:`T`), plus ``mean_weight`` :math:`\cdot \operatorname{mean}_h L_h`;
    the pose returned is the best hypothesis.

    Args:
        encoder (CryoPoseEncoder or PoseHypothesisEncoder): images to poses and shifts.
        decoder (VoxelVolumeDecoder): the volume.
        symmetric (bool, optional): use the symmetric loss. (default: ``False``)
        temperature (float, optional): :math:`T` of the soft minimum over hypotheses (``0``: the minimum);
            an attribute, so a schedule can anneal it. (default: ``0.0``)
        mean_weight (float, optional): weight of the hypotheses' mean loss. (default: ``0.0``)

    Shapes:
        - **input:** a batch with ``image`` :math:`(B, 1, N, N)` and ``ctf`` :math:`(B, N, N)`
        - **output:** ``{"rotation": (B, 3, 3), "shift": (B, 2), "loss": (B,), "hypothesis": (B,)}``
    """

    def __init__(self, encoder: nn.Module, decoder: VoxelVolumeDecoder, symmetric: bool = False,
                 temperature: float = 0.0, mean_weight: float = 0.0):
        super().__init__()
        for name, value in (("temperature", temperature), ("mean_weight", mean_weight)):
            if not value >= 0:
                raise ValueError(f"AmortizedReconstruction: {name} must be >= 0, got {value!r}")
        self.encoder, self.decoder, self.symmetric = encoder, decoder, bool(symmetric)
        self.temperature, self.mean_weight = float(temperature), float(mean_weight)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.decoder.reset_parameters()

    def hypothesis_losses(self, images: Tensor, ctf: Tensor | None, rotations: Tensor, shifts: Tensor) -> Tensor:
        """Per image and hypothesis ``[B, H]``: the mean squared residual (symmetric: the better of two turns)."""
        b, h = rotations.shape[:2]

        def loss(r: Tensor) -> Tensor:
            rendered = self.decoder(r.flatten(0, 1), shifts.flatten(0, 1),
                                    None if ctf is None else ctf.repeat_interleave(h, 0))
            return (images - rendered.view(b, h, *images.shape[-2:])).pow(2).mean((-2, -1))

        losses = loss(rotations)
        if self.symmetric:
            turned = in_plane_rotation(2.0, rotations.dtype).to(rotations.device) @ rotations
            losses = torch.minimum(losses, loss(turned))
        return losses

    def infer(self, images: Tensor, ctf: Tensor | None = None) -> dict[str, Tensor]:
        """The output of :meth:`forward` for images ``(B, 1, N, N)`` and CTF images ``(B, N, N)``."""
        rotations, shifts = self.encoder(images)
        if rotations.dim() == 3:
            rotations, shifts = rotations[:, None], shifts[:, None]
        losses = self.hypothesis_losses(images, ctf, rotations, shifts)
        best, winner = soft_minimum(losses, self.temperature)
        if self.mean_weight:
            best = best + self.mean_weight * losses.mean(1)
        pick = torch.arange(len(winner), device=winner.device)
        return {"rotation": rotations[pick, winner], "shift": shifts[pick, winner], "loss": best, "hypothesis": winner}

    def forward(self, batch) -> dict[str, Tensor]:
        return self.infer(batch.image, getattr(batch, "ctf", None))

    def __repr__(self) -> str:
        return (f"AmortizedReconstruction({self.encoder}, {self.decoder}, symmetric={self.symmetric}, "
                f"temperature={self.temperature}, mean_weight={self.mean_weight})")
