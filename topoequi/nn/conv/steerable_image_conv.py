"""Steerable convolution on pixel grids: the analytic basis sampled on the stencil, one conv2d."""
from __future__ import annotations

import math
from functools import cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from topoequi.nn.bilinear import EquivariantBilinear
from topoequi.nn.change_of_basis import ChangeOfBasis, sort_irreps
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import Rep
from topoequi.symmetry.harmonics import ring_harmonics


def stencil_offsets(kernel_size: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """``[k * k, 2]`` offsets ``(x, y)`` of the stencil entries ``(row, col)`` in row-major order, from
    the stencil center, with ``x`` along the columns and ``y`` up the rows (``y = center - row``)."""
    c = (kernel_size - 1) / 2
    idx = torch.arange(kernel_size, dtype=dtype)
    rows, cols = torch.meshgrid(idx, idx, indexing="ij")
    return torch.stack([cols - c, c - rows], -1).reshape(-1, 2)


def max_stencil_frequency(kernel_size: int) -> int:
    """The highest harmonic frequency the rings of a ``k x k`` stencil carry: ``2 r`` on the outermost
    ring ``r = ceil((k - 1) / 2)``."""
    return 2 * math.ceil((kernel_size - 1) / 2)


def _square(kernel_size) -> int:
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) != 2 or kernel_size[0] != kernel_size[1]:
            raise ValueError(f"SteerableImageConv: kernel_size must be square (an int or (k, k)); a rotated "
                             f"stencil must stay a stencil, got {tuple(kernel_size)}")
        kernel_size = kernel_size[0]
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
        raise ValueError(f"SteerableImageConv: kernel_size must be a positive int, got {kernel_size!r}")
    return kernel_size


def repeated_field(rep: Rep) -> tuple[Rep, int] | None:
    """``(field, C)`` when ``rep`` is ``C`` copies of one field of the kinds the models use: invariant
    channels, regular fields in the sample basis, band-limited regular fields in the irreps basis."""
    group = rep.group
    if rep.change_of_basis is None and rep.is_trivial:
        return group.trivial_rep(1), rep.dim
    if group.is_finite and rep.dim % group.order == 0 and rep.change_of_basis is not None:
        count = rep.dim // group.order
        if rep == regular_field_rep(group, count):
            return regular_field_rep(group, 1), count
        return None
    top = max((psi.frequency for psi, _ in rep.irreps), default=0)
    single = group.regular_rep(None if group.is_finite else top)
    count = rep.dim // max(single.dim, 1)
    if rep.change_of_basis is None and count and rep.irreps == single.irreps * count:
        return single, count
    return None


@cache
def field_pair_basis(field_in: Rep, field_out: Rep, kernel_size: int, max_frequency: int,
                     width: float) -> tuple[Tensor, Tensor]:
    """The filters ``[n, dim out, dim in, k, k]`` of the ``n`` weights of a single-field layer (the
    filter is linear in them) and their initial standard deviations ``[n]`` (float64)."""
    single = SteerableImageConv(field_in, field_out, kernel_size, max_frequency=max_frequency, width=width,
                                bias=False, split_fields=False).double()
    weights = list(single.bilinear.weights)
    std = torch.cat([torch.full((w.numel(),), w.shape[0] ** -0.5, dtype=torch.float64) for w in weights])
    filters = []
    with torch.no_grad():
        for w in weights:
            w.zero_()
        for w in weights:
            for index in range(w.numel()):
                w.view(-1)[index] = 1.0
                filters.append(single.expanded_filter(torch.float64))
                w.view(-1)[index] = 0.0
    return torch.stack(filters), std


class SteerableImageConv(nn.Module):
    r"""Steerable convolution on a pixel grid (:math:`\mathbb{R}^2` sampled on
    :math:`\mathbb{Z}^2`), from the `"General E(2)-Equivariant Steerable CNNs"
    <https://arxiv.org/abs/1911.08251>`_ paper (Weiler & Cesa, NeurIPS 2019).

    It is message passing on the grid graph whose edges are the stencil offsets
    :math:`v \in \{-c..c\}^2`, with the edge-conditioned steerable kernel of
    :class:`~topoequi.nn.SteerableConv`:

    .. math::
        f'(p) = \sum_{v} K(v)\, f(p + v) + b, \qquad
        K(v)\, f = W\big(h(v) \otimes f\big),
        \quad K(g v) = \rho_{out}(g)\, K(v)\, \rho_{in}(g)^{-1},

    with :math:`h(v)` the Gaussian rings times the circular harmonics of the
    group (ring :math:`r` up to frequency :math:`\min(L, 2r)`), reduced to an
    independent basis on the stencil, and :math:`W` the equivariant bilinear map
    (Clebsch-Gordan intertwiners, learned weights). Since the stencil is the same
    at every pixel, the sum over edges is computed as what it is: one
    ``conv2d`` with the expanded filter :math:`K[o, i, v]`. The layer is exactly
    equivariant to the symmetries of the grid in the group (rotations by
    multiples of 90 degrees, and the reflection :math:`y \mapsto -y`, i.e. rows
    upside down, for :math:`D_N` and :math:`O(2)`), approximately to the rest.
    Coordinates: :math:`x` along the columns, :math:`y` up the rows. Output
    irreps that no kernel frequency reaches from ``in_rep`` stay zero (plus bias),
    as in any band-limited basis.

    In ``eval()`` the expanded filter is cached until the parameters change;
    :meth:`export` returns the equivalent plain ``torch.nn.Conv2d``.

    Args:
        in_rep (Rep): input field representation of a planar group (C_N, D_N, SO(2), O(2)).
        out_rep (Rep): output field representation, same group.
        kernel_size (int): stencil width :math:`k` (square).
        stride (int, optional): as ``conv2d``. (default: ``1``)
        padding (int, optional): zero padding; ``None`` keeps the size, ``(k - 1) // 2``. (default: ``None``)
        dilation (int, optional): as ``conv2d``. (default: ``1``)
        max_frequency (int, optional): band limit :math:`L` of the harmonics; ``None`` takes the
            most the stencil carries, :math:`2 \lceil (k-1)/2 \rceil`. (default: ``None``)
        width (float, optional): width :math:`\sigma` of the Gaussian rings, in pixels. (default: ``0.6``)
        bias (bool, optional): learn a bias on the invariant outputs. (default: ``True``)
        split_fields (bool, optional): when ``in_rep`` and ``out_rep`` are copies of one field each
            (invariant channels, :func:`~topoequi.nn.regular_field_rep`, ``G.regular_rep(L).repeat(C)``),
            parametrize the filter by the single-field basis, :math:`K = \sum_n W_{oin} B_n`: the
            same kernels and parameter count, one matrix product per filter. (default: ``True``)

    Shapes:
        - **input:** :math:`(B, \dim \rho_{in}, H, W)`
        - **output:** :math:`(B, \dim \rho_{out}, H', W')`, as ``conv2d``
    """

    def __init__(self, in_rep: Rep, out_rep: Rep, kernel_size: int = 3, stride: int = 1, padding: int | None = None,
                 dilation: int = 1, max_frequency: int | None = None, width: float = 0.6, bias: bool = True,
                 split_fields: bool = True):
        super().__init__()
        name = "SteerableImageConv"
        for arg, rep in (("in_rep", in_rep), ("out_rep", out_rep)):
            if not isinstance(rep, Rep):
                raise TypeError(f"{name}: {arg} must be a Rep, got {type(rep).__name__}")
        if in_rep.group.d != 2:
            raise ValueError(f"{name}: in_rep must be a representation of a planar group (C_N, D_N, SO(2), O(2)), "
                             f"got one of {in_rep.group}")
        if out_rep.group != in_rep.group:
            raise ValueError(f"{name}: out_rep must be a representation of {in_rep.group} like in_rep, "
                             f"got one of {out_rep.group}")
        k = _square(kernel_size)
        top = max_stencil_frequency(k)
        if max_frequency is None:
            max_frequency = top
        elif not isinstance(max_frequency, int) or not 0 <= max_frequency <= top:
            raise ValueError(f"{name}: kernel_size={k} carries frequencies up to {top}, got max_frequency="
                             f"{max_frequency!r}; use a larger kernel_size or a lower max_frequency")
        if not width > 0:
            raise ValueError(f"{name}: width must be positive, got {width}")
        self.in_rep, self.out_rep, self.group = in_rep, out_rep, in_rep.group
        self.kernel_size, self.max_frequency, self.width = k, max_frequency, float(width)
        self.stride, self.dilation = stride, dilation
        self.padding = (k - 1) // 2 if padding is None else padding
        radii = list(range(math.ceil((k - 1) / 2) + 1))
        basis, self.kernel_rep = ring_harmonics(stencil_offsets(k), self.group, radii, self.width,
                                                [min(max_frequency, 2 * r) for r in radii])
        self.register_buffer("basis", basis, persistent=False)  # [k * k, dim h], orthonormal per irrep
        fields = (repeated_field(in_rep), repeated_field(out_rep)) if split_fields else (None, None)
        self.field_counts = None
        if None not in fields and max(fields[0][1], fields[1][1]) > 1:
            self._init_field_pairs(fields, bias)
            return
        sorted_in, sorted_out = sort_irreps(in_rep), sort_irreps(out_rep)
        self.bilinear = EquivariantBilinear(self.kernel_rep, Rep(self.group, sorted_in.irreps),
                                            Rep(self.group, sorted_out.irreps))
        if out_rep.dim and in_rep.dim and self.bilinear.num_missing == out_rep.dim:
            raise ValueError(f"{name}: no equivariant {k}x{k} kernel with frequencies <= {max_frequency} maps "
                             f"in_rep {in_rep} to any irrep of out_rep {out_rep}; use a larger kernel_size")
        self._register_path_bases(basis)
        self.in_basis = ChangeOfBasis(sorted_in.change_of_basis)
        self.out_basis = ChangeOfBasis(sorted_out.change_of_basis)
        self._init_bias(bias)

    def _init_field_pairs(self, fields, bias: bool) -> None:
        """``C_out x C_in`` copies of one field-to-field kernel: the filter is one matrix product of the
        weights ``[C_out, C_in, n]`` with the single-field basis ``[n, ...]``."""
        (field_in, c_in), (field_out, c_out) = fields
        basis, std = field_pair_basis(field_in, field_out, self.kernel_size, self.max_frequency, self.width)
        if not basis.shape[0]:
            raise ValueError(f"SteerableImageConv: no equivariant {self.kernel_size}x{self.kernel_size} kernel with "
                             f"frequencies <= {self.max_frequency} maps in_rep {self.in_rep} to out_rep {self.out_rep}")
        self.field_counts, self.bilinear = (c_out, c_in), None
        self.register_buffer("field_basis", basis.float(), persistent=False)
        self.register_buffer("field_std", (std / c_in**0.5).float(), persistent=False)
        self.field_weights = nn.Parameter(torch.empty(c_out, c_in, basis.shape[0]))
        self._init_bias(bias)

    def _init_bias(self, bias: bool) -> None:
        num_bias = self.out_rep.num_invariants if bias else 0
        self.bias = nn.Parameter(torch.zeros(num_bias)) if num_bias else None
        if self.bias is not None:
            self.register_buffer("bias_basis", self.out_rep.invariant_basis(), persistent=False)
        self._cache: tuple | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.field_counts is None:
            self.bilinear.reset_parameters()
        else:
            with torch.no_grad():
                self.field_weights.normal_().mul_(self.field_std)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cache = None

    def _register_path_bases(self, basis: Tensor) -> None:
        """Per path (kernel entry, input entry, Clebsch-Gordan map) of the bilinear map, the
        parameter-free tensor ``T[u, k, c, b, p] = sum_a C_k[c, a, b] h_u[p, a]``, so that the filter
        is one small contraction with the weights per path."""
        kernel = self.kernel_rep.entries()
        for n, (psi_c, paths) in enumerate(self.bilinear.outputs):
            for i, j, name in paths:
                psi_a, start, m_a = kernel[i]
                h = basis[:, start:start + m_a * psi_a.dim].view(basis.shape[0], m_a, psi_a.dim)
                self.register_buffer(f"path_{n}_{i}_{j}", torch.einsum(
                    "kcab,pua->ukcbp", getattr(self.bilinear, name), h), persistent=False)

    def _irreps_filter(self, dtype: torch.dtype) -> Tensor:
        """The filter on the sorted irreps bases, ``[d_out, d_in, k * k]``."""
        right = self.bilinear.right_rep.entries()
        p = self.basis.shape[0]
        rows = []
        for n, ((psi_c, paths), w) in enumerate(zip(self.bilinear.outputs, self.bilinear.weights)):
            w, offset, m_out = w.to(dtype), 0, w.shape[1]
            cols: dict[int, Tensor] = {}
            for i, j, _ in paths:
                t = getattr(self, f"path_{n}_{i}_{j}").to(dtype)  # [m_a, K, dc, db, P]
                m_a, m_b = t.shape[0], right[j][2]
                w_path = w[offset:offset + m_a * m_b * t.shape[1]].view(m_a, m_b, t.shape[1], m_out)
                offset += m_a * m_b * t.shape[1]
                part = torch.einsum("uvkw,ukcbp->wcvbp", w_path, t).reshape(m_out, psi_c.dim, -1, p)
                cols[j] = cols[j] + part if j in cols else part
            blocks = [cols[j] if j in cols else w.new_zeros(m_out, psi_c.dim, psi.dim * m, p)
                      for j, (psi, _, m) in enumerate(right)]
            rows.append(torch.cat(blocks, 2).reshape(m_out * psi_c.dim, -1, p))
        d_in = self.bilinear.right_rep.dim
        if self.bilinear.num_missing:
            rows.append(self.basis.new_zeros(self.bilinear.num_missing, d_in, p, dtype=dtype))
        return torch.cat(rows)[self.bilinear.out_perm]

    def expanded_filter(self, dtype: torch.dtype | None = None) -> Tensor:
        r"""The dense filter :math:`K[o, i, a, b]` ``[dim rho_out, dim rho_in, k, k]`` of the
        ``conv2d`` (in the bases of ``in_rep`` and ``out_rep``), differentiable in the weights."""
        dtype = dtype or self.weight_dtype
        d_out, d_in, k = self.out_rep.dim, self.in_rep.dim, self.kernel_size
        if self.field_counts is not None:
            (c_out, c_in), basis = self.field_counts, self.field_basis.to(dtype)
            w = self.field_weights.to(dtype).view(c_out * c_in, -1) @ basis.view(basis.shape[0], -1)
            return w.view(c_out, c_in, *basis.shape[1:3], k, k).transpose(1, 2).reshape(d_out, d_in, k, k)
        w = self.out_basis(self._irreps_filter(dtype).reshape(d_out, d_in * k * k))  # Q_out K
        w = self.in_basis(w.view(d_out, d_in, k * k).transpose(0, 1))  # (K Q_in^T)^T
        return w.transpose(0, 1).reshape(d_out, d_in, k, k)

    @property
    def weight_dtype(self) -> torch.dtype:
        weights = [self.field_weights] if self.field_counts is not None else list(self.bilinear.weights)
        return weights[0].dtype if weights else torch.get_default_dtype()

    def expanded_bias(self, dtype: torch.dtype | None = None) -> Tensor | None:
        """The ``conv2d`` bias ``[dim rho_out]`` (on the invariant subspace), or ``None``."""
        if self.bias is None:
            return None
        dtype = dtype or self.bias.dtype
        return self.bias_basis.to(dtype) @ self.bias.to(dtype)

    def _filter_and_bias(self, dtype: torch.dtype) -> tuple[Tensor, Tensor | None]:
        if self.training:
            return self.expanded_filter(dtype), self.expanded_bias(dtype)
        params = list(self.parameters())
        key = (dtype, tuple((p.data_ptr(), p._version, p.device) for p in params))
        if self._cache is None or self._cache[0] != key:
            with torch.no_grad():
                self._cache = (key, self.expanded_filter(dtype), self.expanded_bias(dtype))
        return self._cache[1], self._cache[2]

    def train(self, mode: bool = True) -> SteerableImageConv:
        self._cache = None
        return super().train(mode)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() != 4:
            raise ValueError(f"SteerableImageConv: x must be a floating [B, C, H, W] tensor, got "
                             f"{type(x).__name__} {list(x.shape) if isinstance(x, Tensor) else ''}".rstrip())
        if x.shape[1] != self.in_rep.dim:
            raise ValueError(f"SteerableImageConv: x must have {self.in_rep.dim} channels (in_rep {self.in_rep}), "
                             f"got {x.shape[1]}")
        weight, bias = self._filter_and_bias(x.dtype)
        return F.conv2d(x, weight, bias, self.stride, self.padding, self.dilation)

    @torch.no_grad()
    def export(self) -> nn.Conv2d:
        """A plain ``torch.nn.Conv2d`` with the expanded filter and bias (same device and dtype)."""
        dtype = self.weight_dtype
        weight = self.expanded_filter(dtype)
        conv = nn.Conv2d(self.in_rep.dim, self.out_rep.dim, self.kernel_size, self.stride, self.padding,
                         self.dilation, bias=self.bias is not None, device=weight.device, dtype=dtype)
        conv.weight.copy_(weight)
        if self.bias is not None:
            conv.bias.copy_(self.expanded_bias(dtype))
        return conv

    def __repr__(self) -> str:
        return (f"SteerableImageConv({self.in_rep} -> {self.out_rep}, group={self.group}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, max_frequency={self.max_frequency}, basis={self.kernel_rep.dim})")
