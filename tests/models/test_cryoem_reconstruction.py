"""VoxelVolumeDecoder and AmortizedReconstruction: rendering matches the simulator, symmetric loss, the best or
soft minimum of several hypotheses, gradients."""
import pytest
import torch
from torch_geometric.data import Batch

from topoequi.cryoem.gaussians import gaussian_volume
from topoequi.cryoem.simulate import simulate_stack
from topoequi.models.cryoem_pose_encoder import CryoPoseEncoder, in_plane_rotation
from topoequi.models.cryoem_pose_hypotheses import PoseHypothesisEncoder
from topoequi.models.cryoem_reconstruction import AmortizedReconstruction, VoxelVolumeDecoder


@pytest.fixture(scope="module")
def stack():
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(30, 3, generator=gen, dtype=torch.float64) * 2.5
    volume = gaussian_volume(centers, torch.ones(30, dtype=torch.float64), 1.2, 16).float()
    return volume, simulate_stack(volume, 8, 3.0, snr=float("inf"), seed=1)


def test_decoder_renders_the_simulated_images(stack):
    volume, particles = stack
    batch = Batch.from_data_list(particles.to_data_list())
    decoder = VoxelVolumeDecoder(16, interpolation="cubic")
    with torch.no_grad():
        decoder.volume.copy_(volume)
    with torch.no_grad():
        rendered = decoder(batch.rotation, batch.shift, batch.ctf)
    assert rendered.shape == (8, 1, 16, 16)
    assert float((rendered - batch.image).norm() / batch.image.norm()) < 0.01  # pad 2 vs the simulator's 3
    assert float(VoxelVolumeDecoder(16)(batch.rotation).detach().abs().max()) == 0.0  # starts empty


def test_symmetric_loss_is_the_better_of_the_two_turns(stack):
    volume, particles = stack
    batch = Batch.from_data_list(particles.to_data_list())
    torch.manual_seed(0)
    model = AmortizedReconstruction(CryoPoseEncoder("D4", (1, 1), kernel_size=3, pool_after=(0, 1)),
                                    VoxelVolumeDecoder(16))
    with torch.no_grad():
        model.decoder.volume.copy_(volume)
    out = model(batch)
    model.symmetric = True
    sym = model(batch)
    turned = in_plane_rotation(2.0, torch.float32) @ out["rotation"]
    other = (batch.image - model.decoder(turned, out["shift"], batch.ctf)).pow(2).mean((1, 2, 3))
    assert torch.allclose(sym["loss"], torch.minimum(out["loss"], other))
    assert (sym["loss"] <= out["loss"]).all() and (sym["loss"] < out["loss"]).any()
    sym["loss"].mean().backward()
    assert model.decoder.volume.grad.abs().sum() > 0
    assert sum(float(p.grad.abs().sum()) for p in model.encoder.parameters() if p.grad is not None) > 0



def test_hypotheses_score_the_best_or_a_soft_minimum(stack):
    volume, particles = stack
    batch = Batch.from_data_list(particles.to_data_list())
    torch.manual_seed(0)
    encoder = PoseHypothesisEncoder(CryoPoseEncoder("D4", (1, 1), kernel_size=3, pool_after=(0, 1)), 3, "cube")
    model = AmortizedReconstruction(encoder, VoxelVolumeDecoder(16))
    with torch.no_grad():
        model.decoder.volume.copy_(volume)
        rotations, shifts = encoder(batch.image)
        rendered = [model.decoder(rotations[:, h], shifts[:, h], batch.ctf) for h in range(72)]
        each = torch.stack([(batch.image - r).pow(2).mean((1, 2, 3)) for r in rendered], 1)
        out = model(batch)
        best, winner = each.min(1)
        assert torch.allclose(out["loss"], best, atol=1e-7) and torch.equal(out["hypothesis"], winner)
        assert torch.equal(out["rotation"], rotations[torch.arange(8), winner])
        model.temperature = 0.01
        soft = model(batch)["loss"]
        assert (soft >= best - 1e-7).all() and (soft <= each.mean(1) + 1e-7).all() and (soft > best + 1e-6).any()
        model.temperature = 1e4
        assert torch.allclose(model(batch)["loss"], each.mean(1), atol=1e-5)  # hot: every hypothesis alike
        model.temperature, model.mean_weight = 0.0, 0.5
        assert torch.allclose(model(batch)["loss"], best + 0.5 * each.mean(1), atol=1e-7)
    model.temperature = 0.01
    model(batch)["loss"].mean().backward()
    grads = [sum(float(p.grad.abs().sum()) for p in h.parameters() if p.grad is not None) for h in encoder.heads]
    assert min(grads) > 0  # the soft minimum reaches every head



def test_support_projection_keeps_a_nonnegative_ball():
    decoder = VoxelVolumeDecoder(8, support=2.5)
    with torch.no_grad():
        decoder.volume.copy_(torch.randn(8, 8, 8, generator=torch.Generator().manual_seed(0)))
    before = decoder.volume.detach().clone()
    decoder.project_()
    axis = torch.arange(8.0) - 3.5
    inside = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).norm(dim=-1) <= 2.5
    assert int(inside.sum()) == 56  # the 8 voxels at distance 0.87, 24 at 1.66 and 24 at 2.18 from the centre
    assert torch.equal(decoder.volume.detach(), torch.where(inside, before.clamp_min(0), torch.zeros(())))
    plain = VoxelVolumeDecoder(8)
    with torch.no_grad():
        plain.volume.copy_(before)
    plain.project_()
    assert torch.equal(plain.volume.detach(), before)  # no support: untouched


def test_bad_input():
    decoder = VoxelVolumeDecoder(8)
    with pytest.raises(ValueError, match="AmortizedReconstruction: temperature must be >= 0, got -1"):
        AmortizedReconstruction(CryoPoseEncoder("D4", (1,), kernel_size=3, pool_after=()), decoder, temperature=-1)
    with pytest.raises(ValueError, match="VoxelVolumeDecoder: size must be an int >= 2"):
        VoxelVolumeDecoder(1)
    with pytest.raises(ValueError, match="VoxelVolumeDecoder: support must be a positive radius in voxels, got 0"):
        VoxelVolumeDecoder(8, support=0)
    with pytest.raises(ValueError, match="VoxelVolumeDecoder: interpolation must be 'linear' or 'cubic'"):
        VoxelVolumeDecoder(8, interpolation="nearest")
    assert repr(VoxelVolumeDecoder(8)) == "VoxelVolumeDecoder(size=8, pad=2.0, interpolation=linear)"
