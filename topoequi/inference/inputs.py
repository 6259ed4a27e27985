"""What ``predict`` accepts, flattened to one entry per structure."""
from __future__ import annotations

import os
from collections.abc import Callable

from torch_geometric.data import Batch, Data

from topoequi.inference.molecule import Failure, Molecule
from topoequi.inference.readers import Structure, read_structures
from topoequi.inference.smiles import SmilesString

Entry = Data | Structure


def _is_pair(item) -> bool:
    """``(atomic_numbers, positions)``, told apart from a tuple of two inputs."""
    return (isinstance(item, tuple) and len(item) == 2
            and not isinstance(item[0], (str, os.PathLike, Data, Molecule, SmilesString)))


def flatten_inputs(inputs, ready: tuple[type, ...], convert: Callable[[int, object], list],
                   single: Callable[[object], bool] = lambda item: False) -> list:
    """One entry per structure: a ``Batch`` split into its graphs, ``Data``, :class:`Failure` and the
    ``ready`` types kept, any other item ``k`` replaced by ``convert(k, item)`` (a list of entries).
    ``inputs`` is one input (``Data``, a path, a ``ready`` type, or ``single(inputs)``) or an iterable of them."""
    if isinstance(inputs, (Data, str, os.PathLike, *ready)) or single(inputs):
        inputs = [inputs]
    out: list = []
    for k, item in enumerate(inputs):
        if isinstance(item, Batch):
            out.extend(item.to_data_list())
        elif isinstance(item, (Data, Failure, *ready)):
            out.append(item)
        else:
            out.extend(convert(k, item))
    return out


def _molecules(k: int, item) -> list[Entry]:
    if isinstance(item, (str, os.PathLike)):
        return read_structures(item)
    if not _is_pair(item):
        return [Failure(f"input_{k + 1}", f"cannot predict on a {type(item).__name__}; expected Data, Batch, "
                                          "(atomic numbers, positions), a file path or SMILES")]
    try:
        return [Molecule.from_arrays(f"molecule_{k + 1}", *item)]
    except ValueError as exc:
        return [Failure(f"molecule_{k + 1}", str(exc))]


def expand_inputs(inputs) -> list[Entry]:
    """PyG ``Data`` / ``Batch``, ``(z, pos)`` pairs, :class:`Molecule`, file paths or SMILES strings
    (alone or in a list) -> one entry per structure; what cannot be read becomes a :class:`Failure`."""
    return flatten_inputs(inputs, (Molecule, SmilesString), _molecules, single=_is_pair)
