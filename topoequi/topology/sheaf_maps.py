r"""Differentiable operations on the restriction maps of a sheaf (torch; the combinatorics that build the
local homology sheaf are in :mod:`topoequi.topology.sheaf`).

- :func:`with_constant_sheaf`: direct sums with constant and signed line sheaves;
- :func:`soft_presence`, :func:`persistent_restriction`, :func:`persistent_local_homology_restriction`:
  the persistent sheaf, whose classes are weighted by how surely they exist at a scale, differentiable in
  the edge weights and the scale.
"""
from __future__ import annotations

import torch
from torch import Tensor

from topoequi.topology.sheaf import LocalHomologySheaf, local_homology_sheaf


def with_constant_sheaf(restriction: Tensor, width: int = 1, signed_width: int = 0) -> Tensor:
    r"""The direct sum :math:`\mathcal{F} \oplus \underline{\mathbb{R}}^m \oplus \mathcal{S}^h` with
    constant and signed line sheaves.

    ``[E, 2, d, d] -> [E, 2, d + m + h, d + m + h]``. The ``m`` constant
    coordinates have identity restriction maps, so each of their blocks of
    the sheaf Laplacian is the graph Laplacian :math:`D - A` and the kernel
    gains ``m`` sections per connected component; every vertex (a leaf,
    whose local homology is zero, included) then takes part in the
    diffusion. The ``h`` signed coordinates (the last ones) have
    :math:`F_{u \le e} = 1`, :math:`F_{v \le e} = -1` for ``e = (u, v)``:
    their blocks are the signless Laplacian :math:`D + A` (the sign of one
    endpoint only matters through the product :math:`-F_u F_v = 1`), whose
    sections are the :math:`\pm 1` two-colourings, one per bipartite
    component and none on an odd cycle. Diffusing along them pulls a vertex
    towards the negative of its neighbours' mean: the high-pass coordinate
    of Neural Sheaf Diffusion.
    """
    if restriction.dim() != 4 or restriction.size(1) != 2 or restriction.size(2) != restriction.size(3):
        raise ValueError(f"restriction must have shape [E, 2, d, d], got {list(restriction.shape)}")
    for name, value in (("width", width), ("signed_width", signed_width)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if width + signed_width < 1:
        raise ValueError(f"width + signed_width must be >= 1, got {width!r} + {signed_width!r}")
    num_e, _, d, _ = restriction.shape
    extra = width + signed_width
    out = restriction.new_zeros(num_e, 2, d + extra, d + extra)
    out[..., :d, :d] = restriction
    sign = torch.ones(2, extra, dtype=restriction.dtype, device=restriction.device)
    sign[1, width:] = -1
    out[..., d:, d:] = torch.diag_embed(sign)
    return out


def soft_presence(birth: Tensor, mask: Tensor, edge_weight: Tensor, scale: Tensor | float,
                  temperature: float) -> Tensor:
    r"""Differentiable weight :math:`\alpha = \sigma((\varepsilon - b) / \tau)` of every basis vector.

    :math:`b` is the birth of the class (the weight of its birth edge;
    ``birth == -1`` means born at 0, :math:`\alpha = 1`), :math:`\varepsilon`
    the scale at which the filtered complex is read, :math:`\tau` the
    temperature. As :math:`\tau \to 0` this is the indicator that the class
    exists at scale :math:`\varepsilon`; padding coordinates get 0.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    padded = torch.cat([edge_weight, edge_weight.new_zeros(1)])     # index -1 reads the 0 appended
    b = padded[birth]
    alpha = torch.sigmoid((scale - b) / temperature)
    alpha = torch.where(birth >= 0, alpha, torch.ones_like(alpha))
    return alpha * mask.to(alpha.dtype)


def persistent_restriction(sheaf: LocalHomologySheaf, edges: Tensor, edge_weight: Tensor,
                           scale: Tensor | float, temperature: float) -> Tensor:
    r"""Restriction maps of the persistent sheaf, differentiable in ``edge_weight`` and ``scale``.

    :math:`F^{\varepsilon}_{v \le e} = \operatorname{diag}(\alpha_e) F_{v \le e} \operatorname{diag}(\alpha_v)`
    with :math:`\alpha` from :func:`soft_presence`: a class contributes in
    proportion to how surely it exists at scale :math:`\varepsilon`. The
    combinatorial part (``sheaf``, its birth order) is piecewise constant in
    the weights; gradients flow through the births.
    """
    a_v = soft_presence(sheaf.vertex_birth, sheaf.vertex_mask, edge_weight, scale, temperature)
    a_e = soft_presence(sheaf.edge_birth, sheaf.edge_mask, edge_weight, scale, temperature)
    r = sheaf.restriction.to(edge_weight.dtype)
    return a_e[:, None, :, None] * r * a_v[edges].unsqueeze(-2)


def persistent_local_homology_restriction(x: Tensor, edges: Tensor, triangles: Tensor, stalk_width: int,
                                          scale: Tensor | float, temperature: float) -> Tensor:
    r"""The persistent local homology sheaf of the complex weighted by distances between node embeddings.

    :math:`w_{uv} = \|x_u - x_v\| / \overline{\|x_u - x_v\|}` (mean-normalised, so
    ``scale`` is in units of the mean edge length); the basis order comes
    from :func:`local_homology_sheaf` on the detached weights, the soft
    presence of every class from :func:`persistent_restriction`, so the
    returned ``[E, 2, d, d]`` maps are differentiable in ``x`` and ``scale``.
    """
    num_nodes = x.size(0)
    flat = x.reshape(num_nodes, -1)
    w = (flat[edges[:, 0]] - flat[edges[:, 1]]).pow(2).sum(-1).add(1e-12).sqrt()
    w = w / w.mean().clamp(min=1e-12) if w.numel() else w
    sheaf = local_homology_sheaf(edges, triangles, num_nodes, edge_weight=w.detach(),
                                 stalk_width=stalk_width, dtype=x.dtype)
    sheaf.restriction = sheaf.restriction.to(x.device)
    for name in ("vertex_mask", "edge_mask", "vertex_birth", "edge_birth"):
        setattr(sheaf, name, getattr(sheaf, name).to(x.device))
    return persistent_restriction(sheaf, edges, w, scale, temperature)
