"""Fixtures of the layer tests."""
import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module (request with ``pytestmark = pytest.mark.usefixtures("one_thread")``):
    the tiny LAPACK calls that solve for equivariant bases crawl on two threads of a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
