"""Fixtures shared by the test suite."""
import pytest
import torch

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                                 reason="no CUDA device"))]


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    """Every available device: the CPU always, the first GPU where there is one (skipped elsewhere)."""
    return torch.device(request.param)


@pytest.fixture
def other_device(device) -> torch.device:
    """The device a checkpoint written on ``device`` is loaded on: the other one where there are two."""
    return torch.device("cuda" if device.type == "cpu" and torch.cuda.is_available() else "cpu")


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module (``pytestmark = pytest.mark.usefixtures("one_thread")``): tiny
    solves, scatters and small graphs crawl on two threads of a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _signed_permutation(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    signs = torch.randint(0, 2, (n,), generator=g).double() * 2 - 1
    m = torch.zeros(n, n, dtype=torch.float64)
    m[perm, torch.arange(n)] = signs
    return m, perm, signs


@pytest.fixture(scope="session")
def signed_permutation():
    """``signed_permutation(n, seed)``: a seeded float64 signed permutation matrix ``M`` with
    ``B M = [s_0 b_{pi(0)}, ...]`` for a basis ``B`` of columns, and the pair ``(pi, s)``."""
    return _signed_permutation


def _random_basis(n: int, seed: int) -> torch.Tensor:
    import numpy as np

    from topoequi.lattice import scrambled_bases

    b, _ = scrambled_bases(np.random.default_rng(seed).standard_normal((1, n, n)), seed=seed)
    return torch.tensor(b[0])


@pytest.fixture(scope="session")
def random_basis():
    """``random_basis(n, seed)``: a seeded Gaussian lattice basis ``[n, n]`` (float64 columns) scrambled by a
    random unimodular matrix, so that it is far from reduced."""
    return _random_basis
