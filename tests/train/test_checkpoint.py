import os

import pytest
import torch

from topoequi.files import atomic_save, load_checkpoint
from topoequi.train.checkpoint import rng_state, seed_everything, set_rng_state


def test_atomic_save_round_trip_and_config_check(tmp_path):
    path = tmp_path / "sub" / "ckpt.pt"
    state = {"config": {"model": "a", "width": 8}, "weights": torch.arange(5.0)}
    atomic_save(state, path)
    assert sorted(os.listdir(path.parent)) == ["ckpt.pt"]  # no temp file left behind
    loaded = load_checkpoint(path, expected_config={"model": "a"})
    assert torch.equal(loaded["weights"], torch.arange(5.0))
    with pytest.raises(ValueError, match="model: checkpoint='a' vs requested='b'"):
        load_checkpoint(path, expected_config={"model": "b"})


def test_corrupt_checkpoint_is_reported(tmp_path):
    path = tmp_path / "bad.pt"
    atomic_save({"x": torch.ones(100)}, path)
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match="corrupt"):
        load_checkpoint(path)


def test_rng_state_restores_exactly():
    seed_everything(3)
    state = rng_state()
    a = torch.rand(4)
    set_rng_state(state)
    assert torch.equal(torch.rand(4), a)
