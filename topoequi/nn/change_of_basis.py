"""A representation's change of basis as a cheap operator: irreps sorted, signed permutations gathered."""
from __future__ import annotations

from functools import cache

import torch
from torch import Tensor, nn

from topoequi.symmetry import Rep


@cache
def sort_irreps(rep: Rep) -> Rep:
    """The same representation with the copies of each irrep side by side (first-appearance order).

    The permutation is folded into the change of basis, so the matrices are unchanged; a
    representation listed as ``C`` consecutive copies of a field becomes a few long entries,
    which is what the equivariant bilinear maps iterate over.
    """
    order: dict = {}
    for psi, start, m in rep.entries():
        order.setdefault(psi, []).extend(range(start, start + m * psi.dim))
    perm = torch.tensor([i for idx in order.values() for i in idx], dtype=torch.long)
    irreps = [(psi, len(idx) // psi.dim) for psi, idx in order.items()]
    q = rep.change_of_basis_or_eye()[:, perm]
    return Rep(rep.group, irreps, q)


class ChangeOfBasis(nn.Module):
    r"""Multiplication :math:`t \mapsto Q\, t` along the first axis by an orthogonal ``Q`` that is
    mostly zeros: a gather with signs when ``Q`` is a signed permutation, else a sparse product
    (``Q`` of ``C`` fields is block diagonal up to a permutation).

    Args:
        q (Tensor, optional): ``[d, d]``; ``None`` is the identity.
    """

    def __init__(self, q: Tensor | None):
        super().__init__()
        self.identity = q is None
        self.gather = False
        if q is None:
            return
        nonzero = q.abs() > 1e-12
        if bool((nonzero.sum(1) == 1).all()) and bool(((q.abs() - 1).abs()[nonzero] < 1e-12).all()):
            self.gather = True
            self.register_buffer("index", nonzero.to(torch.int8).argmax(1), persistent=False)
            self.register_buffer("sign", q.gather(1, self.index[:, None])[:, 0].sign(), persistent=False)
        else:
            self.register_buffer("q", q.to_sparse_coo(), persistent=False)

    def forward(self, t: Tensor) -> Tensor:
        if self.identity:
            return t
        if self.gather:
            shape = (-1,) + (1,) * (t.dim() - 1)
            return t.index_select(0, self.index) * self.sign.to(t.dtype).view(shape)
        flat = torch.sparse.mm(self.q.to(t.dtype), t.reshape(t.shape[0], -1))
        return flat.view(t.shape)
