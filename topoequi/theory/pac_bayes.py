r"""The margin PAC-Bayes bound of a network, from its Fourier blocks (equivariant) or its dense
unrolled weights (NBS18), with every term kept.

Both bounds are one formula, the one of the proof of Theorem 1 of `"A PAC-Bayesian Approach to
Spectrally-Normalized Margin Bounds for Neural Networks" <https://arxiv.org/abs/1707.09564>`_
(Neyshabur, Bhojanapalli & Srebro, ICLR 2018, "NBS18"), applied to two parametrizations. A layer is
:math:`A_l = W_l P_l`, the learned map :math:`W_l` after a fixed linear map :math:`P_l` (the lift of
each pixel's neighbourhood onto the kernel basis for a convolution seen pixelwise; :math:`P_l = I`
otherwise), with positively homogeneous maps of Lipschitz constants :math:`C` (product) between
layers. With probability :math:`1 - \delta` over :math:`m` training examples,

.. math::
    L_0(f) \le \hat L_\gamma(f) + 4 \sqrt{\frac{\mathrm{KL} + \ln(6 L m^{1 + 1/(2L)} / \delta)}{m - 1}},
    \qquad
    \mathrm{KL} = \frac{42^2}{2 \gamma^2}\, (B C)^2 \Big(\sum_l \|P_l\|_2\Big)^2 \eta \ln(2 N)
        \prod_{l} \|A_l\|_2^2 \sum_{l} \frac{\|W_l\|_F^2}{\|A_l\|_2^2},

for inputs in the ball of radius :math:`B` and margin :math:`\gamma` (NBS18's Lemma 2 with
:math:`\|U_l P_l\| \le \|U_l\| \|P_l\|`; :math:`(\sum_l \|P_l\|)^2 = L^2` without lifts, NBS18's
factor). The Gaussian perturbation :math:`U_l` of :math:`W_l` has
:math:`\|U_l\|_2 \le \sigma \sqrt{2 \eta \ln(2N)}` for all layers with probability 1/2 (matrix
Gaussian series, union bound):

- **NBS18** (dense): every layer unrolled to one matrix on its actual input (:math:`P_l = I`),
  :math:`U_l` i.i.d. Gaussian, so :math:`\eta = \max_l \max(n^{in}_l, n^{out}_l)` (the width
  :math:`h`), :math:`N = \sum_l (n^{in}_l + n^{out}_l) \le 2 L h` (NBS18's :math:`\ln(4 L h)`), and
  :math:`\|W_l\|_F` is the Frobenius norm of the unrolled matrix.
- **Equivariant** (Behboodi, Cesa & Cohen, `"A PAC-Bayesian Generalization Bound for Equivariant
  Networks" <https://arxiv.org/abs/2210.13150>`_, NeurIPS 2022): :math:`U_l` is Gaussian in the
  Fourier domain, i.i.d. over the real coordinates of the blocks :math:`\hat U_l(\psi)`, so
  :math:`\|U_l\|_2 = \max_\psi \|\hat U_l(\psi)\|_2`,
  :math:`\eta = \max_{l, \psi} t_\psi \max(m^{in}_{l\psi}, m^{out}_{l\psi})`,
  :math:`N = \sum_{l, \psi} t_\psi (m^{in}_{l\psi} + m^{out}_{l\psi})`, and
  :math:`\|W_l\|_F^2 \to \sum_\psi \|\hat W_l(\psi)\|_F^2` (no :math:`d_\psi` factor), with
  multiplicities :math:`m`, irrep dimensions :math:`d_\psi` and type dimensions :math:`t_\psi`
  (:mod:`topoequi.theory.fourier_blocks`); a convolution's :math:`W_l` acts at every pixel, so its
  perturbation is the same at every pixel.

:math:`\|A_l\|_2` is the spectral norm of the unrolled layer (power iteration).

Which theorem: the statement of Behboodi, Cesa & Cohen's bound (its theorem number, equation and
constants) was not available offline: the copies of the paper at hand (arXiv 2210.13150 on ar5iv, the
NeurIPS 2022 poster page and index pages) give only its abstract, introduction and list of
contributions, and no public repository at hand holds its text or its code. What those pages state (an
NBS18 argument with the perturbation drawn in the Fourier domain, a tail bound on the spectral norm
of a random matrix that is a direct sum over real irreps, multiplicities and irrep degrees in the
bound) is what is implemented, with NBS18's constants (its Theorem 1 and Lemmas 1-2) carried through
that perturbation as derived above; the equivariant bound is therefore ours, not copied from the paper.
Both bounds are invariant to rescaling :math:`W_l \to \alpha W_l`, :math:`W_{l'} \to W_{l'} / \alpha`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from topoequi.theory import layers as _layers  # noqa: F401 - registers the supported layers
from topoequi.theory.fourier_blocks import dense_norms, fourier_blocks, is_registered
from topoequi.theory.lipschitz import LIPSCHITZ
from topoequi.theory.margins import check_examples, input_norm_bound, margin_loss, margins


@dataclass
class LayerTerms:
    """One layer's terms: :math:`\\|A_l\\|_2`, :math:`\\|W_l\\|_F^2`, :math:`\\eta_l`, :math:`N_l`,
    :math:`\\|P_l\\|_2`."""

    name: str
    spectral: float
    frobenius_sq: float
    variance_factor: int
    real_size: int
    lift: float = 1.0


@dataclass
class Bound:
    """A bound and all its terms (``kind``: ``"equivariant"`` or ``"NBS18"``)."""

    kind: str
    layers: list[LayerTerms]
    lipschitz: float
    input_norm: float
    gamma: float
    margin_loss: float
    num_examples: int
    delta: float
    seconds: float = field(default=0.0)

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def eta(self) -> int:
        return max(t.variance_factor for t in self.layers)

    @property
    def size(self) -> int:
        return sum(t.real_size for t in self.layers)

    @property
    def spectral_product(self) -> float:
        return math.prod(t.spectral**2 for t in self.layers)

    @property
    def frobenius_ratio(self) -> float:
        return sum(t.frobenius_sq / t.spectral**2 for t in self.layers)

    @property
    def kl(self) -> float:
        lifts = sum(t.lift for t in self.layers)
        complexity = (self.input_norm * self.lipschitz * lifts) ** 2 * self.eta * math.log(2 * self.size)
        return 42**2 * complexity * self.spectral_product * self.frobenius_ratio / (2 * self.gamma**2)

    @property
    def confidence(self) -> float:
        m, depth = self.num_examples, self.depth
        return math.log(6 * depth / self.delta) + (1 + 1 / (2 * depth)) * math.log(m)

    @property
    def value(self) -> float:
        return self.margin_loss + 4 * math.sqrt((self.kl + self.confidence) / (self.num_examples - 1))

    def terms(self) -> dict[str, float]:
        """Every term, keyed by its symbol in the formula."""
        return {"L_gamma (margin loss)": self.margin_loss, "gamma": self.gamma, "B (input norm)": self.input_norm,
                "C (fixed maps)": self.lipschitz, "L (layers)": self.depth,
                "sum ||P_l||_2": sum(t.lift for t in self.layers), "eta": self.eta, "N": self.size,
                "prod ||A||_2^2": self.spectral_product, "sum ||W||_F^2/||A||_2^2": self.frobenius_ratio,
                "KL": self.kl, "ln(6 L m^(1+1/2L)/delta)": self.confidence, "m": self.num_examples,
                "bound": self.value}


def network_chain(model: nn.Module) -> list[nn.Module]:
    """The modules of an ``nn.Sequential`` (nested ones flattened), in order."""
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"pac_bayes: the model must be an nn.Sequential chain of layers (its forward is then "  # noqa: TRY004
                         f"their composition), got {type(model).__name__}")
    chain = []
    for module in model:
        chain += network_chain(module) if isinstance(module, nn.Sequential) else [module]
    return chain


def _trace(chain: list[nn.Module], example: Tensor) -> list[tuple[int, ...]]:
    shapes, x = [], example[:1]
    with torch.no_grad():
        for module in chain:
            shapes.append(tuple(x.shape[1:]))
            x = module(x)
    return shapes


def _layer_terms(chain, shapes) -> tuple[list[LayerTerms], list[LayerTerms], float]:
    """Per registered layer, its equivariant and its dense terms; the product of the fixed maps'
    Lipschitz constants."""
    equivariant, dense, lipschitz = [], [], 1.0
    for module, shape in zip(chain, shapes):
        if is_registered(module):
            n = dense_norms(module, shape)
            name = type(module).__name__
            dense.append(LayerTerms(name, n.spectral, n.frobenius_sq, max(n.width_in, n.width_out),
                                    n.width_in + n.width_out))
            layer = fourier_blocks(module)
            blocks = [b for b in layer.blocks if b.multiplicity_in]
            equivariant.append(LayerTerms(name, n.spectral, sum(b.frobenius_sq for b in blocks),
                                          max(b.variance_factor for b in blocks), sum(b.real_size for b in blocks),
                                          layer.lift_norm))
        elif type(module) in LIPSCHITZ:
            lipschitz *= LIPSCHITZ[type(module)](module, shape)
        else:
            raise ValueError(f"pac_bayes: layer {module!r} is neither a supported linear layer nor a known "
                             f"positively homogeneous 1-Lipschitz map ({', '.join(c.__name__ for c in LIPSCHITZ)})")
    return equivariant, dense, lipschitz


def pac_bayes_bounds(model: nn.Module, images: Tensor, labels: Tensor, gamma: float,
                     delta: float = 0.05) -> tuple[Bound, Bound]:
    """The equivariant and the NBS18 bound of ``model`` on the training examples ``images [M, ...]``,
    ``labels [M]`` at margin ``gamma``: ``(equivariant, nbs18)``."""
    import time

    if not gamma > 0:
        raise ValueError(f"pac_bayes: gamma must be positive, got {gamma}")
    if not 0 < delta < 1:
        raise ValueError(f"pac_bayes: delta must be in (0, 1), got {delta}")
    check_examples(images, labels)
    if images.shape[0] < 2:
        raise ValueError(f"pac_bayes: the bound needs at least 2 examples, got {images.shape[0]}")
    chain = network_chain(model)
    loss = margin_loss(margins(model, images, labels), gamma)
    common = {"input_norm": input_norm_bound(images), "gamma": float(gamma), "margin_loss": loss,
                  "num_examples": images.shape[0], "delta": delta}
    device = next(model.parameters()).device
    shapes = _trace(chain, images[:1].to(device))
    start = time.perf_counter()
    equivariant, dense, lipschitz = _layer_terms(chain, shapes)
    seconds = time.perf_counter() - start
    return (Bound("equivariant", equivariant, lipschitz, **common, seconds=seconds),
            Bound("NBS18", dense, lipschitz, **common, seconds=seconds))
