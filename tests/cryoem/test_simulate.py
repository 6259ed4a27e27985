"""Simulation: the noise level, determinism, the defocus values and bad input."""
import pytest
import torch

from topoequi.cryoem.simulate import simulate_stack


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
