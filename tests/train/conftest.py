"""Fixtures shared by the training tests."""
import pytest


@pytest.fixture
def small_hparams() -> dict:
    """A SteerableMoleculeNet small enough for float64 steps on 2 cores (a fresh dict per test)."""
    return {"hidden_irreps": "8x0e+4x1o+2x2e", "num_layers": 2, "embedding_dim": 8, "num_radial": 4}


@pytest.fixture
def homo_stats():
    """Standardisation of the QM9 HOMO target (column 2) with a round mean and spread, reported in meV."""
    from topoequi.train import qm9

    return qm9.TargetStats("homo", 2, -6.5, 0.6, "meV")
