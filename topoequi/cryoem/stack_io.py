"""Particle stacks on disk: images in an MRC2014 ``.mrcs`` stack, poses, shifts and CTF in a RELION
``.star`` file (``data_optics`` and ``data_particles`` loops), through the optional packages
``mrcfile`` and ``starfile`` (``pip install topoequi[cryoem]``).

Columns written: ``rlnImageName`` (``000001@stack.mrcs``), ``rlnAngleRot/Tilt/Psi`` (degrees),
``rlnOriginX/Y`` (pixels), the CTF columns of :data:`~topoequi.cryoem.ctf.CTF_FIELDS` in
RELION's names, and in the optics loop ``rlnImagePixelSize`` and ``rlnImageSize``. Numbers are
written with 17 significant digits, so a write -> read round trip is exact. Read also accepts
``rlnOriginXAngst/YAngst`` (RELION 3.1) and a missing optional CTF column (its default).
The angles are those of :func:`~topoequi.cryoem.rotations.euler_to_matrix` and the origins are the
shifts :math:`(t_x, t_y)` with :math:`y` up the rows; that these match RELION's own handedness and
origin sign on real data has not been checked against a RELION reconstruction.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import torch

from topoequi.cryoem.simulate import ParticleStack

CTF_COLUMNS = ("rlnDefocusU", "rlnDefocusV", "rlnDefocusAngle", "rlnVoltage", "rlnSphericalAberration",
               "rlnAmplitudeContrast", "rlnPhaseShift", "rlnCtfBfactor")
CTF_DEFAULTS = {"rlnDefocusAngle": 0.0, "rlnPhaseShift": 0.0, "rlnCtfBfactor": 0.0}
ANGLE_COLUMNS = ("rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi")
OPTICS_COLUMNS = ("rlnVoltage", "rlnSphericalAberration", "rlnAmplitudeContrast")


def _optional(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"topoequi.cryoem.stack_io needs the optional package {module!r}: "
                          f"pip install 'topoequi[cryoem]'") from exc


def write_stack(stack: ParticleStack, mrcs: str | os.PathLike, star: str | os.PathLike) -> None:
    """Write ``stack`` to ``mrcs`` (float32 images, voxel size = pixel size) and ``star``."""
    mrcfile, starfile = _optional("mrcfile"), _optional("starfile")
    import pandas as pd

    mrcs, star = Path(mrcs), Path(star)
    with mrcfile.new(mrcs, overwrite=True) as f:
        f.set_data(stack.images.numpy().astype(np.float32))
        f.set_image_stack()
        f.voxel_size = stack.pixel_size
    n = len(stack)
    try:
        name = os.path.relpath(mrcs, star.parent)
    except ValueError:  # another drive
        name = str(mrcs)
    particles = {"rlnImageName": [f"{i + 1:06d}@{name}" for i in range(n)]}
    particles.update({c: stack.angles[:, k].numpy() for k, c in enumerate(ANGLE_COLUMNS)})
    particles.update({"rlnOriginX": stack.shifts[:, 0].numpy(), "rlnOriginY": stack.shifts[:, 1].numpy()})
    particles.update({c: stack.ctf[:, k].numpy() for k, c in enumerate(CTF_COLUMNS)})
    particles["rlnOpticsGroup"] = np.ones(n, dtype=np.int64)
    optics = pd.DataFrame({"rlnOpticsGroup": [1], "rlnImagePixelSize": [stack.pixel_size],
                           "rlnImageSize": [stack.size]})
    starfile.write({"optics": optics, "particles": pd.DataFrame(particles)}, star, float_format="%.17g")


def _column(table, name: str, star: Path, default: float | None = None) -> np.ndarray:
    if name in table.columns:
        try:
            return np.array([float(v) for v in table[name]], dtype=np.float64)
        except ValueError as exc:
            raise ValueError(f"read_stack: {star} column {name} holds a value that is not a number ({exc})") from None
    if default is None:
        raise ValueError(f"read_stack: {star} lacks the required column {name}")
    return np.full(len(table), default)


def _read_images(mrcs: Path, star: Path, names) -> np.ndarray:
    mrcfile = _optional("mrcfile")
    if not mrcs.is_file():
        raise FileNotFoundError(f"read_stack: {mrcs} does not exist")
    try:
        with mrcfile.open(mrcs, permissive=False, mode="r") as f:
            data = np.array(f.data, dtype=np.float32)
    except ValueError as exc:
        raise ValueError(f"read_stack: {mrcs} is not a valid MRC stack ({exc})") from exc
    data = data[None] if data.ndim == 2 else data
    if data.ndim != 3 or data.shape[1] != data.shape[2]:
        raise ValueError(f"read_stack: {mrcs} must hold square images, got data of shape {list(data.shape)}")
    index = np.array([int(str(v).split("@")[0]) - 1 for v in names])
    if index.min() < 0 or index.max() >= data.shape[0]:
        raise ValueError(f"read_stack: {star} field rlnImageName refers to image {index.max() + 1}, but {mrcs} "
                         f"holds {data.shape[0]}")
    return data[index]


def read_stack(mrcs: str | os.PathLike, star: str | os.PathLike, volume_size: int | None = None) -> ParticleStack:
    """Read a stack written by :func:`write_stack` or by RELION (one ``.mrcs``); ``volume_size``, when
    given, must equal the image size."""
    starfile = _optional("starfile")
    mrcs, star = Path(mrcs), Path(star)
    if not star.is_file():
        raise FileNotFoundError(f"read_stack: {star} does not exist")
    exact = [*ANGLE_COLUMNS, *CTF_COLUMNS, "rlnOriginX", "rlnOriginY", "rlnOriginXAngst", "rlnOriginYAngst",
             "rlnImagePixelSize"]
    blocks = starfile.read(star, always_dict=True, parse_as_string=exact)  # parsed by float(): exact
    particles = blocks.get("particles", next(iter(blocks.values())) if len(blocks) == 1 else None)
    if particles is None or not hasattr(particles, "columns"):
        raise ValueError(f"read_stack: {star} has no data_particles loop")
    optics = blocks.get("optics")
    has_pixel = optics is not None and "rlnImagePixelSize" in optics.columns
    pixel = float(_column(optics if has_pixel else particles, "rlnImagePixelSize", star)[0])
    for name in OPTICS_COLUMNS:  # RELION 3.1 keeps these in the optics loop
        if name not in particles.columns and optics is not None and name in optics.columns:
            particles[name] = optics[name].iloc[0]
    if "rlnImageName" not in particles.columns:
        raise ValueError(f"read_stack: {star} lacks the required column rlnImageName")
    images = _read_images(mrcs, star, particles["rlnImageName"])
    if volume_size is not None and images.shape[-1] != volume_size:
        raise ValueError(f"read_stack: {mrcs} holds {images.shape[-1]}x{images.shape[-1]} images, the volume "
                         f"is {volume_size}^3")
    angles = np.stack([_column(particles, c, star) for c in ANGLE_COLUMNS], -1)
    if "rlnOriginXAngst" in particles.columns:
        shifts = np.stack([_column(particles, f"rlnOrigin{a}Angst", star) for a in "XY"], -1) / pixel
    else:
        shifts = np.stack([_column(particles, f"rlnOrigin{a}", star, 0.0) for a in "XY"], -1)
    ctf = np.stack([_column(particles, c, star, CTF_DEFAULTS.get(c)) for c in CTF_COLUMNS], -1)
    return ParticleStack(torch.from_numpy(images), torch.from_numpy(angles), torch.from_numpy(shifts),
                         torch.from_numpy(ctf), pixel)
