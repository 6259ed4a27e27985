"""The lossless .mrcs / .star round trip, RELION 3.1 star files, and bad stacks that name the file and field."""
import pytest
import torch


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
