"""Equivariance tests for PyG-style callables.

The caller declares, for every input and output, how a group element acts on
it: a :class:`~topoequi.symmetry.Rep` (features ``[..., rep.dim]`` map to
``x rho(g)^T``), ``"pos"`` (positions ``[..., d]`` are rotated *and*
translated), or ``None`` (invariant: edge indices, batch vectors, scalars).
Omitted, they are read from the module, as e3nn's tester reads ``irreps_in``:
``assert_equivariant(conv, [x, pos, edge_index])``.
The tester draws random group elements (reflections included when the group
has them), runs everything in float64, and compares ``f(g . x)`` with
``g . f(x)``.
"""
from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from topoequi.symmetry import Group, Rep

Action = Rep | str | None
POSITIONS = "pos"


class _FromModule:
    """The default of ``reps_in`` / ``reps_out``: read ``in_rep`` / ``out_rep`` from the module."""

    def __repr__(self) -> str:
        return "FROM_MODULE"


FROM_MODULE = _FromModule()
DEFAULT_ATOL = 1e-9


def _as_list(obj, what: str) -> tuple[list, list | None]:
    if isinstance(obj, Mapping):
        return list(obj.values()), list(obj.keys())
    if isinstance(obj, (list, tuple)):
        return list(obj), None
    raise TypeError(f"{what} must be a sequence or a mapping, got {type(obj).__name__}")


def _declared_inputs(func: Callable, values: list, keys: list | None) -> list[Action]:
    """The actions on the inputs, read from ``func`` by parameter name (PyG's names): the first
    parameter or ``x`` carries ``func.in_rep``, ``pos`` is ``"pos"``, ``edge_attr`` carries
    ``func.edge_rep``, and integer tensors (indices, batch vectors) are invariant."""
    if not hasattr(func, "in_rep"):
        raise ValueError(f"assert_equivariant: {type(func).__name__} has no in_rep; pass reps_in")
    if keys is None:
        params = [p.name for p in inspect.signature(func.forward if isinstance(func, torch.nn.Module)
                                                    else func).parameters.values()]
        keys = params[:len(values)]
    actions = []
    for i, (name, value) in enumerate(zip(keys, values)):
        if i == 0 or name == "x":
            actions.append(func.in_rep)
        elif name == "pos":
            actions.append(POSITIONS)
        elif name == "edge_attr":
            actions.append(getattr(func, "edge_rep", None))
        elif isinstance(value, Tensor) and value.is_floating_point():
            raise ValueError(f"assert_equivariant: cannot tell how the group acts on input {name!r} of "
                             f"{type(func).__name__}; pass reps_in")
        else:
            actions.append(None)
    return actions


def _infer_group(actions: Sequence[Action], group: Group | None) -> Group:
    groups = {a.group for a in actions if isinstance(a, Rep)}
    if group is not None:
        groups.add(group)
    if len(groups) > 1:
        raise ValueError(f"assert_equivariant: representations of different groups: {sorted(map(str, groups))}")
    if not groups:
        raise ValueError("assert_equivariant: pass group= when no input or output carries a Rep")
    return groups.pop()


def _check(value: Any, action: Action, group: Group, where: str) -> None:
    if action is None:
        return
    if isinstance(action, str) and action != POSITIONS:
        raise ValueError(f"assert_equivariant: {where} is declared {action!r}; use a Rep, 'pos' or None")
    if not isinstance(value, Tensor) or not value.is_floating_point():
        raise TypeError(f"assert_equivariant: {where} is declared {action!r} but is not a floating "
                        f"tensor ({type(value).__name__})")
    width = group.d if action == POSITIONS else action.dim
    if value.dim() == 0 or value.shape[-1] != width:
        raise ValueError(f"assert_equivariant: {where} is declared {action!r}, so its last dimension must "
                         f"be {width}; got shape {list(value.shape)}")


def _act(value: Any, action: Action, g: Tensor, shift: Tensor, matrices: dict) -> Any:
    if action is None:
        return value
    if action == POSITIONS:
        return value @ g.T.to(value.device) + shift.to(value.device)
    if action not in matrices:
        matrices[action] = action.matrices(g[None])[0].to(value.device)
    return value @ matrices[action].T


def _to_double(value: Any) -> Any:
    return value.double() if isinstance(value, Tensor) and value.is_floating_point() else value


def _declarations(func: Callable, values: list, keys: list | None, reps_in, reps_out) -> tuple:
    """``reps_in`` and ``reps_out``, read from the module where omitted."""
    if reps_in is FROM_MODULE:
        reps_in = _declared_inputs(func, values, keys)
        reps_in = reps_in if keys is None else dict(zip(keys, reps_in))
    if reps_out is FROM_MODULE:
        if not hasattr(func, "out_rep"):
            raise ValueError(f"assert_equivariant: {type(func).__name__} has no out_rep; pass reps_out")
        reps_out = func.out_rep
    return reps_in, reps_out


def _random_elements(group: Group, n: int, gen: torch.Generator) -> Tensor:
    """``n`` Haar samples; with reflections, the second half made improper so that they are tested."""
    elements = group.sample(n, generator=gen)
    if group.has_reflections:
        flip = (torch.linalg.det(elements) > 0) & (torch.arange(n) >= n // 2)
        elements = torch.where(flip[:, None, None], elements @ group.reflection(), elements)
    return elements


def equivariance_error(func: Callable, args_in: Sequence | Mapping, reps_in: Sequence | Mapping = FROM_MODULE,
                       reps_out: Action | Sequence[Action] = FROM_MODULE, group: Group | None = None,
                       n_elements: int = 6, translate: bool = True, seed: int = 0,
                       elements: Tensor | None = None) -> list[float]:
    """Maximum of ``|f(g . x) - g . f(x)|`` over group elements, one number per output.

    Args:
        func: the callable (a ``torch.nn.Module`` is deep-copied to float64).
        args_in: positional inputs, or a mapping of keyword inputs.
        reps_in: the action on each input (same length / keys as ``args_in``):
            a ``Rep``, ``"pos"`` or ``None``; when omitted, read from the
            module (``in_rep`` for ``x``, ``"pos"``, ``edge_rep`` for ``edge_attr``).
        reps_out: the action on the output, or a sequence for a tuple output;
            ``func.out_rep`` when omitted.
        group: the group; inferred from the ``Rep`` declarations when omitted.
        n_elements: number of random group elements (half of them improper
            when the group has reflections).
        translate: also translate the ``"pos"`` inputs (and outputs).
        seed: seed of the random elements and translations.
        elements: explicit ``[B, d, d]`` elements to test instead.
    """
    values, keys = _as_list(args_in, "args_in")
    reps_in, reps_out = _declarations(func, values, keys, reps_in, reps_out)
    actions, action_keys = _as_list(reps_in, "reps_in")
    if len(values) != len(actions) or (keys is not None and keys != action_keys):
        raise ValueError(f"assert_equivariant: {len(values)} inputs but {len(actions)} declarations in reps_in")
    single = not isinstance(reps_out, (list, tuple))
    out_actions = [reps_out] if single else list(reps_out)
    group = _infer_group(actions + out_actions, group)
    names = keys or [f"input {i}" for i in range(len(values))]
    for value, action, name in zip(values, actions, names):
        _check(value, action, group, name)
    if isinstance(func, torch.nn.Module):
        func = copy.deepcopy(func).double()
    values = [_to_double(v) for v in values]

    def call(vals):
        out = func(**dict(zip(keys, vals))) if keys is not None else func(*vals)
        outs = [out] if single else list(out)
        if len(outs) != len(out_actions):
            raise ValueError(f"assert_equivariant: the function returned {len(outs)} outputs but reps_out "
                             f"declares {len(out_actions)}")
        return [_to_double(o) for o in outs]

    reference = call(values)
    for i, (out, action) in enumerate(zip(reference, out_actions)):
        _check(out, action, group, f"output {i}")

    gen = torch.Generator().manual_seed(seed)
    elements = group.check_elements(
        (_random_elements(group, n_elements, gen) if elements is None else elements).to(torch.float64))
    errors = [0.0] * len(reference)
    for g in elements:
        zero = torch.zeros(group.d, dtype=torch.float64)
        shift = torch.randn(group.d, generator=gen, dtype=torch.float64) if translate else zero
        mats: dict = {}
        moved = call([_act(v, a, g, shift, mats) for v, a in zip(values, actions)])
        for i, (out, new, action) in enumerate(zip(reference, moved, out_actions)):
            errors[i] = max(errors[i], _distance(new, _act(out, action, g, shift, mats)))
    return errors


def _distance(new: Any, expected: Any) -> float:
    """Largest absolute difference of two outputs (0 or infinity for outputs that are not tensors)."""
    if isinstance(expected, Tensor):
        return (new - expected).abs().max().item() if expected.numel() else 0.0
    return 0.0 if new == expected else float("inf")


def assert_equivariant(func: Callable, args_in: Sequence | Mapping, reps_in: Sequence | Mapping = FROM_MODULE,
                       reps_out: Action | Sequence[Action] = FROM_MODULE, group: Group | None = None,
                       atol: float = DEFAULT_ATOL, verbose: bool = False, **kwargs) -> list[float]:
    """Assert ``f(g . x) = g . f(x)`` in float64 for random group elements; return the errors.

    Same arguments as :func:`equivariance_error`, plus ``atol`` (absolute
    tolerance on every output, default 1e-9) and ``verbose`` (print the
    errors). Raises ``AssertionError`` naming the outputs that fail.

    Example::

        >>> G = SO3()
        >>> assert_equivariant(lambda p: p.norm(dim=-1, keepdim=True) * p, [torch.randn(5, 3)],
        ...                    [G.standard_rep], G.standard_rep, translate=False)
        >>> conv = ImplicitSteerableConv(Rep("4x0e+2x1o"), Rep("4x0e+2x1o"))
        >>> assert_equivariant(conv, [x, pos, edge_index])  # reps read from the layer
    """
    errors = equivariance_error(func, args_in, reps_in, reps_out, group=group, **kwargs)
    if verbose:
        for i, e in enumerate(errors):
            print(f"equivariance error of output {i}: {e:.3e}")
    bad = [f"output {i}: {e:.3e}" for i, e in enumerate(errors) if not e <= atol]
    if bad:
        raise AssertionError(f"not equivariant (tolerance {atol:.1e}): " + ", ".join(bad))
    return errors
