"""Simulation (SNR, shapes, determinism), the embedded map, and the lossless .mrcs/.star round trip with bad input."""
import pytest
import torch

from topoequi.cryoem.density_map import load_density_map
from topoequi.cryoem.simulate import simulate_stack


@pytest.fixture(scope="module")
def density():
    return load_density_map()


@pytest.fixture(scope="module")
def stack(density):
    volume, voxel = density
    return simulate_stack(volume, 12, voxel, snr=0.5, seed=3)


def test_embedded_map(density):
    volume, voxel = density
    assert volume.shape == (32, 32, 32) and voxel == 2.5
    assert float(volume.max()) == pytest.approx(1.0)
    assert float(volume.min()) >= 0.0
    border = torch.cat([volume[0].flatten(), volume[-1].flatten(), volume[:, 0].flatten(), volume[:, :, -1].flatten()])
    assert float(border.max()) < 1e-3  # the molecule fits in its box


def test_simulation_noise_level_and_determinism(density, stack):
    volume, voxel = density
    clean = simulate_stack(volume, 12, voxel, snr=float("inf"), seed=3)
    noise = stack.images - clean.images
    assert float(clean.images.var() / noise.var()) == pytest.approx(0.5, rel=0.1)
    assert torch.equal(simulate_stack(volume, 12, voxel, snr=0.5, seed=3).images, stack.images)
    assert stack.ctf[:, 0].min() >= 10000 and stack.ctf[:, 0].max() <= 25250  # defocus U = mean + 250
    assert torch.allclose(stack.ctf[:, 0] - stack.ctf[:, 1], torch.full((12,), 500.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="simulate_stack: snr must be positive"):
        simulate_stack(volume, 2, voxel, snr=0.0)


def test_mrcs_star_round_trip_is_lossless(stack, tmp_path):
    pytest.importorskip("mrcfile")
    pytest.importorskip("starfile")
    from topoequi.cryoem.stack_io import read_stack, write_stack

    write_stack(stack, tmp_path / "particles.mrcs", tmp_path / "particles.star")
    back = read_stack(tmp_path / "particles.mrcs", tmp_path / "particles.star", volume_size=32)
    for name in ("images", "angles", "shifts", "ctf"):
        assert torch.equal(getattr(back, name), getattr(stack, name)), name
    assert back.pixel_size == stack.pixel_size
    assert torch.equal(back.rotations, stack.rotations)


def test_bad_stacks_name_the_file_and_field(stack, tmp_path):
    pytest.importorskip("mrcfile")
    pytest.importorskip("starfile")
    from topoequi.cryoem.stack_io import read_stack, write_stack

    mrcs, star = tmp_path / "p.mrcs", tmp_path / "p.star"
    write_stack(stack, mrcs, star)
    with pytest.raises(ValueError, match=r"p.mrcs holds 32x32 images, the volume is 64\^3"):
        read_stack(mrcs, star, volume_size=64)
    text = star.read_text()
    missing = tmp_path / "missing.star"
    missing.write_text(text.replace("_rlnAngleTilt #3", "_rlnSomethingElse #3"))
    with pytest.raises(ValueError, match="missing.star lacks the required column rlnAngleTilt"):
        read_stack(mrcs, missing)
    corrupt = tmp_path / "corrupt.mrcs"
    corrupt.write_bytes(b"not an mrc file" * 100)
    with pytest.raises(ValueError, match="corrupt.mrcs is not a valid MRC stack"):
        read_stack(corrupt, star)
    import mrcfile

    rect = tmp_path / "rect.mrcs"
    with mrcfile.new(rect) as f:
        f.set_data(torch.zeros(12, 32, 30).numpy())
    with pytest.raises(ValueError, match="rect.mrcs must hold square images"):
        read_stack(rect, star)


def test_reads_a_relion_31_star_file(stack, tmp_path):
    pytest.importorskip("mrcfile")
    pytest.importorskip("starfile")
    from topoequi.cryoem.stack_io import read_stack, write_stack

    write_stack(stack, tmp_path / "p.mrcs", tmp_path / "unused.star")
    rows = "\n".join(f"{i + 1:06d}@p.mrcs 10 20 30 2.5 -5.0 15000 14000 45 1" for i in range(3))
    (tmp_path / "p.star").write_text(
        "data_optics\n\nloop_\n_rlnOpticsGroup #1\n_rlnImagePixelSize #2\n_rlnImageSize #3\n_rlnVoltage #4\n"
        "_rlnSphericalAberration #5\n_rlnAmplitudeContrast #6\n1 2.5 32 300 2.7 0.07\n\n"
        "data_particles\n\nloop_\n_rlnImageName #1\n_rlnAngleRot #2\n_rlnAngleTilt #3\n_rlnAnglePsi #4\n"
        "_rlnOriginXAngst #5\n_rlnOriginYAngst #6\n_rlnDefocusU #7\n_rlnDefocusV #8\n_rlnDefocusAngle #9\n"
        f"_rlnOpticsGroup #10\n{rows}\n")
    back = read_stack(tmp_path / "p.mrcs", tmp_path / "p.star")
    assert len(back) == 3 and torch.equal(back.images, stack.images[:3])
    assert back.shifts.tolist() == [[1.0, -2.0]] * 3  # Angstrom / pixel size
    assert back.ctf[0].tolist() == [15000.0, 14000.0, 45.0, 300.0, 2.7, 0.07, 0.0, 0.0]  # optics + defaults
