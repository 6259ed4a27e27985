r"""The Fourier-domain blocks of an equivariant linear map, and a registry of the layers that have them.

An equivariant map :math:`W: \rho_{in} \to \rho_{out}` is block diagonal over the irreps
:math:`\psi` (Schur's lemma): in irreps bases it maps the :math:`m_{in}(\psi)` input copies of
:math:`\psi` to its :math:`m_{out}(\psi)` output copies by :math:`\hat W(\psi) \otimes I`, with
:math:`\hat W(\psi)` an :math:`m_{out} \times m_{in}` matrix over the endomorphism algebra of
:math:`\psi` (real numbers for real type, complex numbers for complex type). Normalization:

.. math::
    \|W\|_2 = \max_\psi \|\hat W(\psi)\|_2, \qquad
    \|W\|_F^2 = \sum_\psi d_\psi\, \|\hat W(\psi)\|_F^2,

with :math:`\|\hat W(\psi)\|_F^2` the sum of squares of its real coordinates (the parameters a
Gaussian perturbation acts on). A block is kept as its isotypic rows :math:`W_\psi` (the rows of
the output copies of :math:`\psi`, ``[m_out d, D_in]``), whose singular values are those of
:math:`\hat W(\psi)`, each repeated :math:`d_\psi / t_\psi` times (:math:`t_\psi` the type dimension).

Layers are supported through :func:`register_layer`: the bound code only sees
:class:`LayerBlocks`, never a layer's internals.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from topoequi.symmetry import Irrep, Rep, group_from_name


@dataclass(frozen=True)
class FourierBlock:
    """:math:`\\hat W(\\psi)` of one irrep: multiplicities and the isotypic rows ``[m_out d, D_in]``."""

    irrep: Irrep
    multiplicity_in: int
    multiplicity_out: int
    isotypic: Tensor

    @property
    def spectral_norm(self) -> float:
        """:math:`\\|\\hat W(\\psi)\\|_2`."""
        return float(torch.linalg.matrix_norm(self.isotypic, 2)) if self.isotypic.numel() else 0.0

    @property
    def frobenius_sq(self) -> float:
        """:math:`\\|\\hat W(\\psi)\\|_F^2 = \\|W_\\psi\\|_F^2 / d_\\psi`."""
        return float(self.isotypic.square().sum()) / self.irrep.dim

    @property
    def variance_factor(self) -> int:
        """:math:`t_\\psi \\max(m_{in}, m_{out})`: the matrix variance of a unit Gaussian :math:`\\hat U(\\psi)`."""
        return self.irrep.type_dim * max(self.multiplicity_in, self.multiplicity_out)

    @property
    def real_size(self) -> int:
        """:math:`t_\\psi (m_{in} + m_{out})`: the sum of the sides of its real form."""
        return self.irrep.type_dim * (self.multiplicity_in + self.multiplicity_out)


@dataclass(frozen=True)
class LayerBlocks:
    """A layer as :math:`x \\mapsto W (P x)`: the blocks of :math:`W` and :math:`\\|P\\|_2` (``lift_norm``),
    :math:`P` a fixed linear map (the stencil lift of a convolution; 1 for a linear layer)."""

    blocks: tuple[FourierBlock, ...]
    lift_norm: float = 1.0


@dataclass(frozen=True)
class DenseNorms:
    """The layer unrolled to one dense matrix on its actual input: norms and the two sides' sizes."""

    spectral: float
    frobenius_sq: float
    width_in: int
    width_out: int


def isotypic_blocks(matrix: Tensor, out_rep: Rep, in_multiplicities: dict[Irrep, int]) -> tuple[FourierBlock, ...]:
    """The blocks of an equivariant ``matrix [out_rep.dim, D_in]`` whose rows are in ``out_rep``'s
    irreps basis (``out_rep.change_of_basis`` is ignored); ``in_multiplicities``: copies of each irrep
    in the input."""
    blocks = []
    for psi, starts in out_rep.copy_offsets().items():
        rows = torch.cat([torch.arange(s, s + psi.dim) for s in starts]).to(matrix.device)
        blocks.append(FourierBlock(psi, in_multiplicities.get(psi, 0), len(starts), matrix[rows]))
    return tuple(blocks)


def multiplicities(rep: Rep) -> dict[Irrep, int]:
    return {psi: len(starts) for psi, starts in rep.copy_offsets().items()}


def trivial_blocks(matrix: Tensor) -> tuple[FourierBlock, ...]:
    """A map without symmetry: one block of the trivial group, the matrix itself."""
    trivial = group_from_name("C1").trivial_irrep
    return (FourierBlock(trivial, matrix.shape[1], matrix.shape[0], matrix),)


_REGISTRY: dict[type, tuple[Callable, Callable]] = {}


def register_layer(cls: type, fourier: Callable[[nn.Module], LayerBlocks],
                   dense: Callable[[nn.Module, tuple[int, ...]], DenseNorms]) -> None:
    """Support layers of type ``cls``: ``fourier(layer)`` gives its :class:`LayerBlocks`,
    ``dense(layer, input_shape)`` (one example, no batch axis) its :class:`DenseNorms`."""
    _REGISTRY[cls] = (fourier, dense)


def is_registered(layer: nn.Module) -> bool:
    return type(layer) in _REGISTRY


def fourier_blocks(layer: nn.Module) -> LayerBlocks:
    """The :class:`LayerBlocks` of a registered layer; a ``ValueError`` naming any other."""
    return _lookup(layer)[0](layer)


def dense_norms(layer: nn.Module, input_shape: tuple[int, ...]) -> DenseNorms:
    """The :class:`DenseNorms` of a registered layer on inputs of ``input_shape``."""
    return _lookup(layer)[1](layer, tuple(input_shape))


def _lookup(layer: nn.Module) -> tuple[Callable, Callable]:
    if type(layer) not in _REGISTRY:
        known = ", ".join(sorted(c.__name__ for c in _REGISTRY))
        raise ValueError(f"fourier_blocks: no Fourier blocks known for layer {layer!r} "
                         f"({type(layer).__name__}); supported: {known}")
    return _REGISTRY[type(layer)]
