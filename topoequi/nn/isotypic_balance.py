"""Balanced isotypic components of the unconstrained map of a relaxed steerable convolution."""
from __future__ import annotations

import torch
from torch import Tensor, nn


def _blocks(pattern: Tensor) -> Tensor:
    """One-hot ``[C, d]`` of the connected components of a symmetric ``[d, d]`` boolean pattern."""
    label = [-1] * pattern.shape[0]
    for i in range(pattern.shape[0]):
        if label[i] < 0:
            label[i], stack = i, [i]
            while stack:
                for k in pattern[stack.pop()].nonzero()[:, 0].tolist():
                    if label[k] < 0:
                        label[k] = i
                        stack.append(k)
    roots = sorted(set(label))
    return torch.tensor([[float(lab == r) for lab in label] for r in roots], dtype=torch.float64)


class IsotypicBalance(nn.Module):
    r"""Parametrization of the unconstrained map :math:`W_0` of a relaxed steerable convolution
    (:class:`~topoequi.nn.conv.steerable_message_passing.SteerableMessagePassing` with a likelihood
    :math:`\lambda` over a finite group :math:`G`) that keeps its isotypic components in the
    proportions of a random map, output block by output block, so that :math:`\lambda` alone sets how
    far every output of the layer is from :math:`G`-equivariance.

    :math:`G` acts on maps by :math:`g\cdot W = \rho_{out}(g)\, W\, (\rho_h(g) \otimes \rho_{in}(g))^{-1}`;
    the projector onto the :math:`\psi`-isotypic maps is
    :math:`P_\psi V = \frac{d_\psi}{t_\psi |G|} \sum_g \chi_\psi(g)\, g \cdot V` (:math:`t_\psi` the
    dimension of the endomorphisms of the real irrep :math:`\psi`). It keeps the rows of every
    invariant block :math:`c` of :math:`\rho_{out}` (an irrep copy in the irreps basis); on them its rank
    is :math:`n_{\psi c}`. From a free parameter :math:`V`,

    .. math::
        W_0[c] = \sum_\psi \sqrt{n_{\psi c}\, e_c}\; \frac{P_\psi V[c]}{\|P_\psi V[c]\|},
        \qquad e_c = \|P_1 V[c]\|^2 / n_{1c}

    (:math:`e_c` the energy per dimension of the equivariant part of the block; the mean over the blocks
    where a block has no equivariant maps), so the equivariant part :math:`P_1 W_0 = P_1 V` is learned
    freely and every other component of each output block has the norm a random map would give it
    relative to it. The relaxed map :math:`W_\lambda = \sum_g \lambda(g)/|G|\; g \cdot W_0` scales the
    :math:`\psi`-component by the Fourier coefficient :math:`\hat\lambda(\psi) = \mathbb{E}_\lambda\,
    \psi(g)`: uniform :math:`\lambda` gives the equivariant layer :math:`P_1 V`, a :math:`\lambda` uniform
    on a subgroup :math:`H` keeps the :math:`H`-invariant parts of the components at their full norm,
    and a small deviation of :math:`\lambda` from uniform cannot be amplified by :math:`W_0`. With a
    single irrep (:math:`G = C_1`) :math:`W_0 = V`.

    Register it with ``torch.nn.utils.parametrize.register_parametrization(conv, "relaxed_weight",
    IsotypicBalance(conv))``.

    Args:
        conv (SteerableMessagePassing): a relaxed convolution whose likelihood is over a finite group.
    """

    def __init__(self, conv: nn.Module):
        super().__init__()
        lam = getattr(conv, "likelihood", None)
        if lam is None or not hasattr(conv, "rho_out"):
            raise ValueError(f"IsotypicBalance: {type(conv).__name__} is not a relaxed steerable convolution "
                             f"(it needs a likelihood)")
        if not lam.group.is_finite:
            raise ValueError(f"IsotypicBalance: the likelihood's group {lam.group} must be finite")
        self.group = lam.group
        grid = lam.grid.to(torch.float64)
        irreps = lam.group.irreps()
        characters = torch.stack([psi.matrices(grid).diagonal(dim1=-2, dim2=-1).sum(-1) for psi in irreps])
        dims = torch.tensor([psi.dim / psi.type_dim for psi in irreps], dtype=torch.float64)
        projector = characters * dims[:, None] / grid.shape[0]  # [K, S]: P_psi = sum_s projector[psi, s] g_s.
        rho = {key: getattr(conv, key).to(torch.float64) for key in ("rho_out", "rho_kernel", "rho_in")}
        blocks = _blocks(rho["rho_out"].abs().sum(0) > 1e-9)  # [C, d_out]
        traces = torch.einsum("co,soo->sc", blocks, rho["rho_out"])  # per block, then times the others'
        traces = traces * (rho["rho_kernel"].diagonal(dim1=-2, dim2=-1).sum(-1)
                           * rho["rho_in"].diagonal(dim1=-2, dim2=-1).sum(-1))[:, None]
        ranks = (projector @ traces).round()  # [K, C]: n_psi,c, the trace of P_psi on the block
        trivial = [psi.is_trivial for psi in irreps].index(True)
        if ranks[trivial].sum() < 1:
            raise ValueError(f"IsotypicBalance: {type(conv).__name__} has no {lam.group}-equivariant maps")
        keep = [trivial] + [k for k in (ranks.sum(1) > 0).nonzero()[:, 0].tolist() if k != trivial]
        self.register_buffer("projector", projector[keep], persistent=False)
        self.register_buffer("ranks", ranks[keep], persistent=False)
        self.register_buffer("blocks", blocks, persistent=False)
        for key in ("rho_out", "rho_kernel", "rho_in"):
            self.register_buffer(key, getattr(conv, key).clone(), persistent=False)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.group}, components={self.projector.shape[0]}, "
                f"blocks={self.blocks.shape[0]})")

    def components(self, v: Tensor) -> Tensor:
        """The isotypic components :math:`P_\\psi V` ``[K, d_out, d_h, d_in]``, the equivariant one first."""
        t = torch.einsum("soO,Oab->soab", self.rho_out.to(v.dtype), v)
        t = torch.einsum("saA,soAb->soab", self.rho_kernel.to(v.dtype), t)
        t = torch.einsum("sbB,soaB->soab", self.rho_in.to(v.dtype), t)
        return torch.einsum("ks,soab->koab", self.projector.to(v.dtype), t)

    def block_energies(self, w: Tensor) -> Tensor:
        """:math:`\\|P_\\psi W[c]\\|^2` ``[K, C]`` of every component and output block."""
        return torch.einsum("koab,co->kc", self.components(w).square(), self.blocks.to(w.dtype))

    def forward(self, v: Tensor) -> Tensor:
        if self.projector.shape[0] == 1:
            return v
        parts = self.components(v)
        energy = torch.einsum("koab,co->kc", parts.square(), self.blocks.to(v.dtype))
        ranks = self.ranks.to(v.dtype)
        has = ranks[0] > 0
        mean = energy[0][has].sum() / ranks[0][has].sum()
        per_dim = torch.where(has, energy[0] / ranks[0].clamp_min(1), mean)  # e_c
        tiny, present = torch.finfo(v.dtype).tiny, ranks > 0  # no sqrt at 0 (its gradient)
        ratio = (ranks * per_dim).clamp_min(tiny) / torch.where(present, energy, 1.0).clamp_min(tiny)
        scale = torch.where(present, ratio.sqrt(), 0.0)  # [K, C]
        scale = torch.cat([has.to(v.dtype)[None], scale[1:]])  # the equivariant part as it is
        return torch.einsum("koab,ko->oab", parts, scale @ self.blocks.to(v.dtype))
