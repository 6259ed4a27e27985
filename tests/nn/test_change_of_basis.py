"""Changes of basis as cheap operators: sorted irreps keep the matrices; gather, sparse and identity paths
all multiply by Q."""
import torch

from topoequi.nn.change_of_basis import ChangeOfBasis, sort_irreps
from topoequi.symmetry import Rep, group_from_name


def test_sort_irreps_groups_copies_and_keeps_the_matrices():
    group = group_from_name("SO(3)")
    l0, l1 = group.irrep(0), group.irrep(1)
    rep = Rep(group, [(l0, 1), (l1, 2), (l0, 2), (l1, 1)])
    sorted_rep = sort_irreps(rep)
    assert [(psi, m) for psi, _, m in sorted_rep.entries()] == [(l0, 3), (l1, 3)]
    g = group.sample(5, generator=torch.Generator().manual_seed(0))
    assert (sorted_rep.matrices(g) - rep.matrices(g)).abs().max() < 1e-12
    q = sorted_rep.change_of_basis_or_eye()
    assert ((q.abs() == 1).sum(1) == 1).all()                                 # a permutation
    assert sort_irreps(rep) is sorted_rep                                     # cached


def test_signed_permutation_is_a_gather():
    perm = torch.tensor([2, 0, 3, 1])
    q = torch.zeros(4, 4, dtype=torch.float64)
    q[torch.arange(4), perm] = torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=torch.float64)
    op = ChangeOfBasis(q)
    assert op.gather and not op.identity
    t = torch.randn(4, 3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(op(t), torch.einsum("ij,jkl->ikl", q, t))


def test_dense_orthogonal_matrix_is_a_sparse_product():
    q, _ = torch.linalg.qr(torch.randn(5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2)))
    op = ChangeOfBasis(q)
    assert not op.gather and not op.identity
    t = torch.randn(5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    assert (op(t) - q @ t).abs().max() < 1e-12
    assert (op(t.float()) - (q @ t).float()).abs().max() < 1e-5 and op(t.float()).dtype == torch.float32


def test_none_is_the_identity():
    op = ChangeOfBasis(None)
    t = torch.randn(3, 2)
    assert op.identity and op(t) is t
