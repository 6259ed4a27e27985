"""Fixtures shared by the loader tests."""
import pytest


@pytest.fixture(scope="session")
def qm9():
    """The QM9 sample shipped with the repository (all of its molecules)."""
    from topoequi.datasets import QM9

    return QM9(source="sample", progress=False)
