"""What ``predict`` accepts, flattened to one entry per structure."""
from __future__ import annotations

import os

from torch_geometric.data import Batch, Data

from topoequi.inference.molecule import Failure, Molecule
from topoequi.inference.readers import Structure, read_structures
from topoequi.inference.smiles import SmilesString

Entry = Data | Structure


def _is_pair(item) -> bool:
    """``(atomic_numbers, positions)``, told apart from a tuple of two inputs."""
    return (isinstance(item, tuple) and len(item) == 2
            and not isinstance(item[0], (str, os.PathLike, Data, Molecule, SmilesString)))


def expand_inputs(inputs) -> list[Entry]:
    """PyG ``Data`` / ``Batch``, ``(z, pos)`` pairs, :class:`Molecule`, file paths or SMILES strings
    (alone or in a list) -> one entry per structure; what cannot be read becomes a :class:`Failure`."""
    if isinstance(inputs, (Data, Molecule, SmilesString, str, os.PathLike)) or _is_pair(inputs):
        inputs = [inputs]
    out: list[Entry] = []
    for k, item in enumerate(inputs):
        if isinstance(item, Batch):
            out.extend(item.to_data_list())
        elif isinstance(item, (Data, Molecule, Failure, SmilesString)):
            out.append(item)
        elif isinstance(item, (str, os.PathLike)):
            out.extend(read_structures(item))
        elif _is_pair(item):
            try:
                out.append(Molecule.from_arrays(f"molecule_{k + 1}", *item))
            except ValueError as exc:
                out.append(Failure(f"molecule_{k + 1}", str(exc)))
        else:
            out.append(Failure(f"input_{k + 1}", f"cannot predict on a {type(item).__name__}; expected Data, "
                                                 "Batch, (atomic numbers, positions), a file path or SMILES"))
    return out
