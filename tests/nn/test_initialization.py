"""Sublayers built inside drawn_again_by_reset leave the random state as they found it, so a parent's
reset_parameters() at the end of __init__ draws exactly what building it would have drawn."""
import torch

from topoequi.nn import EquivariantMLP
from topoequi.nn.initialization import drawn_again_by_reset
from topoequi.symmetry import Rep, group_from_name


class Parent(torch.nn.Module):
    def __init__(self):
        super().__init__()
        with drawn_again_by_reset():
            self.inner = torch.nn.Linear(3, 4)
        self.reset_parameters()

    def reset_parameters(self):
        self.inner.reset_parameters()


def test_draws_inside_the_block_do_not_advance_the_random_state():
    torch.manual_seed(0)
    with drawn_again_by_reset():
        inside = torch.rand(3)
    after = torch.rand(3)
    torch.manual_seed(0)
    assert torch.equal(after, torch.rand(3)) and torch.equal(inside, after)


def test_building_equals_resetting_after_the_same_seed():
    torch.manual_seed(5)
    built = Parent()
    weight, next_draw = built.inner.weight.detach().clone(), torch.rand(1)
    torch.manual_seed(5)
    built.reset_parameters()
    assert torch.equal(built.inner.weight, weight)                    # the same parameters
    assert torch.equal(next_draw, torch.rand(1))                      # and one initialisation's draws consumed


def test_an_mlp_is_initialised_once():
    group = group_from_name("SO(3)")
    rep = Rep(group, [(group.irrep(0), 2), (group.irrep(1), 2)])
    torch.manual_seed(3)
    mlp = EquivariantMLP(rep, [rep], rep)
    built = [p.detach().clone() for p in mlp.parameters()]
    torch.manual_seed(3)
    mlp.reset_parameters()
    assert all(torch.equal(a, b) for a, b in zip(built, mlp.parameters(), strict=True))
