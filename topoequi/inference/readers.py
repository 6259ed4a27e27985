"""Molecule files: XYZ (single and multi-frame, read and written), SDF / MOL (V2000) and SMILES lists.

Every reader returns one entry per structure: a :class:`Molecule`, or a
:class:`Failure` naming the file and line of what is wrong, so that the other
structures of the same file are still read. :func:`read_structures` picks the
reader from the file extension, and treats a string that is neither a file nor
a name with a known extension as a SMILES string.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from topoequi.inference.molecule import SYMBOLS, Failure, Molecule, atomic_number
from topoequi.inference.smiles import SmilesString

Structure = Molecule | Failure | SmilesString

NEUTRAL_VALENCE = {6: 4, 7: 3, 8: 2}
"""Bond valence of uncharged C, N, O: less in an SDF means its hydrogens are implicit."""
BOND_ORDER = {1: 1.0, 2: 2.0, 3: 3.0, 4: 1.5}
"""V2000 bond types (4: aromatic) as bond orders."""


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the file ({exc})") from exc


def _atoms(rows: list[str], path: Path, first_line: int,
           symbol_last: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Parse ``element x y z [...]`` rows, or ``x y z element [...]`` ones (``*^`` exponents allowed,
    as in QM9's own files)."""
    z, pos = [], []
    layout = "x y z element" if symbol_last else "element x y z"
    for k, row in enumerate(rows):
        tokens = row.split()
        symbol, coords = (tokens[3:4], tokens[0:3]) if symbol_last else (tokens[0:1], tokens[1:4])
        try:
            if len(coords) != 3 or not symbol:
                raise ValueError("too few columns")
            z.append(atomic_number(symbol[0]))
            pos.append([float(t.replace("*^", "e")) for t in coords])
        except ValueError as exc:
            raise ValueError(f"{path}:{first_line + k}: expected '{layout}', got {row.strip()!r} "
                             f"({exc})") from exc
    return np.array(z, dtype=np.int64), np.array(pos, dtype=np.float64).reshape(-1, 3)


def read_xyz(path: str | os.PathLike) -> list[Molecule | Failure]:
    """Every frame of an XYZ file: atom count, comment, then ``element x y z`` per atom.

    Frames are named ``stem#k`` (1-based), a single frame ``stem``. A frame
    with a bad atom line is listed as a failure and reading goes on with the
    next; a count line that is not a number ends the file.
    """
    path = Path(path)
    lines = _lines(path)
    out: list[Molecule | Failure] = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        name = f"{path.stem}#{len(out) + 1}"
        count = lines[i].split()[0]
        if not count.isdigit():
            out.append(Failure(name, f"{path}:{i + 1}: expected the number of atoms, got "
                                     f"{lines[i].strip()!r}; the rest of the file is skipped"))
            break
        n = int(count)
        rows = lines[i + 2:i + 2 + n]
        if len(rows) < n:
            out.append(Failure(name, f"{path}:{i + 1}: the frame announces {n} atoms, the file ends "
                                     f"after {len(rows)}"))
            break
        try:
            out.append(Molecule(name, *_atoms(rows, path, i + 3)))
        except ValueError as exc:
            out.append(Failure(name, str(exc)))
        i += n + 2
    if len(out) == 1:
        out = [replace(out[0], name=path.stem)]
    return out


def write_xyz(path: str | os.PathLike, molecules) -> None:
    """Write :class:`Molecule` objects as one multi-frame XYZ file (names as comments, 10 decimals)."""
    frames = [f"{len(m.z)}\n{m.name}\n" + "".join(f"{SYMBOLS[a - 1]} {x:.10f} {y:.10f} {z:.10f}\n"
                                                   for a, (x, y, z) in zip(m.z, m.pos)) for m in molecules]
    Path(path).write_text("".join(frames))


def read_sdf(path: str | os.PathLike) -> list[Molecule | Failure]:
    """Every record of an SDF (or a single MOL) file in the V2000 format.

    Records are named by their title line, else ``stem#k``. Records with 2D
    coordinates or with implicit hydrogens (an uncharged C, N or O below its
    neutral valence) are refused: the models need every atom in 3D.
    """
    path = Path(path)
    lines = _lines(path)
    out: list[Molecule | Failure] = []
    start = 0
    for end in [k for k, line in enumerate(lines) if line.strip() == "$$$$"] + [len(lines)]:
        record = lines[start:end]
        if any(line.strip() for line in record):
            name = (record[0].strip() if record else "") or f"{path.stem}#{len(out) + 1}"
            try:
                out.append(Molecule(name, *_molblock(record, path, start + 1)))
            except ValueError as exc:
                out.append(Failure(name, str(exc)))
        start = end + 1
    return out


def _molblock(record: list[str], path: Path, first: int) -> tuple[np.ndarray, np.ndarray]:
    """Atoms of one V2000 molblock whose first line is line ``first`` of ``path``."""
    if len(record) < 4:
        raise ValueError(f"{path}:{first}: a molblock needs a header of 3 lines and a counts line")
    counts = record[3]
    if "V3000" in counts:
        raise ValueError(f"{path}:{first + 3}: V3000 molfiles are not read; write the file as V2000")
    if record[1][20:22] == "2D":
        raise ValueError(f"{path}:{first + 1}: the record has 2D coordinates; 3D coordinates are needed")
    try:
        num_atoms, num_bonds = int(counts[0:3]), int(counts[3:6])
    except ValueError:
        raise ValueError(f"{path}:{first + 3}: expected a V2000 counts line, got {counts.strip()!r}") from None
    atom_rows = record[4:4 + num_atoms]
    bond_rows = record[4 + num_atoms:4 + num_atoms + num_bonds]
    if len(atom_rows) < num_atoms or len(bond_rows) < num_bonds:
        raise ValueError(f"{path}:{first + 3}: the counts line announces {num_atoms} atoms and {num_bonds} "
                         "bonds, the record is shorter")
    z, pos = _atoms(atom_rows, path, first + 4, symbol_last=True)
    _check_hydrogens(z, atom_rows, bond_rows, record, path, first + 4 + num_atoms)
    return z, pos


def _check_hydrogens(z: np.ndarray, atom_rows: list[str], bond_rows: list[str], record: list[str],
                     path: Path, first_bond_line: int) -> None:
    valence = np.zeros(len(z))
    for k, row in enumerate(bond_rows):
        try:
            a, b, kind = (int(t) for t in row.split()[:3])
            valence[[a - 1, b - 1]] += BOND_ORDER.get(kind, 1.0)
        except (ValueError, IndexError):
            raise ValueError(f"{path}:{first_bond_line + k}: expected a bond 'atom atom type', "
                             f"got {row.strip()!r}") from None
    charged = {i for i, row in enumerate(atom_rows) if len(row.split()) > 5 and row.split()[5] != "0"}
    for line in record:
        if line.startswith(("M  CHG", "M  RAD")):
            charged.update(int(t) - 1 for t in line.split()[3::2])
    for i, (a, v) in enumerate(zip(z, valence)):
        if i not in charged and v < NEUTRAL_VALENCE.get(int(a), 0):
            raise ValueError(f"{path}: atom {i + 1} ({atom_rows[i].split()[3]}) has bond valence {v:g}: "
                             "its hydrogens are implicit; write the molecule with explicit hydrogens in 3D")


def read_smiles_file(path: str | os.PathLike) -> list[SmilesString | Failure]:
    """One ``SMILES [name]`` per line (blank lines and ``#`` comments skipped)."""
    path = Path(path)
    out: list[SmilesString | Failure] = []
    for k, line in enumerate(_lines(path)):
        tokens = line.split(None, 1)
        if tokens and not tokens[0].startswith("#"):
            out.append(SmilesString(tokens[0], tokens[1].strip() if len(tokens) > 1 else f"{path.stem}:{k + 1}"))
    return out


READERS = {".xyz": read_xyz, ".sdf": read_sdf, ".sd": read_sdf, ".mol": read_sdf,
           ".smi": read_smiles_file, ".smiles": read_smiles_file}
"""File extension -> reader."""


def read_structures(source: str | os.PathLike) -> list[Structure]:
    """The structures of a file (format from its extension), or one SMILES string.

    Never raises for bad input: an unreadable file becomes a single :class:`Failure`.
    """
    path = Path(source)
    reader = READERS.get(path.suffix.lower())
    if path.is_file() and reader is not None:
        try:
            return reader(path)
        except ValueError as exc:
            return [Failure(path.name, str(exc))]
    if path.exists():
        kind = "a directory" if path.is_dir() else f"a file of unknown format {path.suffix!r}"
        return [Failure(path.name, f"{path}: {kind}; readable: {', '.join(READERS)} files or SMILES strings")]
    if reader is not None or isinstance(source, os.PathLike):
        return [Failure(path.name, f"{path}: no such file")]
    return [SmilesString(str(source), str(source))]
