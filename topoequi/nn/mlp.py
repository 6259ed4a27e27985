"""Equivariant multi-layer perceptron."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import Tensor, nn

from topoequi.nn.batch_norm import EquivariantBatchNorm
from topoequi.nn.gate import GatedNonlinearity, NormNonlinearity
from topoequi.nn.initialization import drawn_again_by_reset
from topoequi.nn.linear import EquivariantLinear
from topoequi.symmetry import Rep

NONLINEARITIES: dict[str, Callable[[Rep], nn.Module]] = {"gate": GatedNonlinearity, "norm": NormNonlinearity}


class EquivariantMLP(nn.Module):
    r"""A stack of equivariant linear layers, normalizations and nonlinearities.

    Each hidden layer is :math:`\sigma(\mathrm{BN}(W x))`, where the
    nonlinearity :math:`\sigma` is built for the hidden representation and
    :math:`W` maps to what :math:`\sigma` takes as input (for a gate, the hidden
    representation plus one invariant gate per non-trivial copy). A final
    linear layer maps to ``out_rep``; with ``out_rep=None`` the MLP ends after
    the last nonlinearity.

    Args:
        in_rep (Rep): input representation.
        hidden_reps (sequence of Rep): the hidden representations (irreps basis).
        out_rep (Rep, optional): output representation. (default: ``None``)
        nonlinearity (str or callable, optional): ``"gate"``, ``"norm"``, or a
            factory ``rep -> module`` whose module has ``in_rep``/``out_rep``
            (e.g. a Fourier nonlinearity). (default: ``"gate"``)
        batch_norm (bool, optional): equivariant batch norm before each
            nonlinearity. (default: ``True``)

    Shapes:
        - **input:** :math:`(N, \dim \rho_{in})`
        - **output:** :math:`(N, \dim \rho_{out})`
    """

    def __init__(self, in_rep: Rep, hidden_reps: Sequence[Rep], out_rep: Rep | None = None,
                 nonlinearity: str | Callable[[Rep], nn.Module] = "gate", batch_norm: bool = True):
        super().__init__()
        if isinstance(nonlinearity, str):
            if nonlinearity not in NONLINEARITIES:
                raise ValueError(f"EquivariantMLP: nonlinearity must be one of {sorted(NONLINEARITIES)} or a "
                                 f"callable, got {nonlinearity!r}")
            nonlinearity = NONLINEARITIES[nonlinearity]
        if out_rep is None and not hidden_reps:
            raise ValueError("EquivariantMLP: give at least one hidden representation or an out_rep")
        self.in_rep = in_rep
        with drawn_again_by_reset():
            layers: list[nn.Module] = []
            rep = in_rep
            for hidden in hidden_reps:
                act = nonlinearity(hidden)
                layers.append(EquivariantLinear(rep, act.in_rep))
                if batch_norm:
                    layers.append(EquivariantBatchNorm(act.in_rep))
                layers.append(act)
                rep = act.out_rep
            if out_rep is not None:
                layers.append(EquivariantLinear(rep, out_rep))
                rep = out_rep
            self.out_rep = rep
            self.layers = nn.Sequential(*layers)
        self.hidden_reps, self.batch_norm = list(hidden_reps), batch_norm
        self.reset_parameters()

    def __repr__(self) -> str:
        hidden = ", ".join(str(r) for r in self.hidden_reps)
        return f"{self.__class__.__name__}({self.in_rep} -> [{hidden}] -> {self.out_rep}, batch_norm={self.batch_norm})"

    def reset_parameters(self) -> None:
        for layer in self.layers:
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        self.in_rep.check_features(x, "EquivariantMLP: x")
        return self.layers(x)
