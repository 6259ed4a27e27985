"""``outer_aggregate`` pads neighbourhoods to a fixed width when a degree bound is given."""
import torch

from topoequi.graph import radius_graph
from topoequi.nn.conv.steerable_message_passing import outer_aggregate
from topoequi.validation import check_values, set_debug


def test_matches_the_sum_of_outer_products_with_and_without_a_degree_bound(device):
    gen = torch.Generator().manual_seed(0)
    pos = torch.randn(40, 3, generator=gen, dtype=torch.float64)
    edge_index = radius_graph(pos, r=1.5, max_num_neighbors=6).to(device)
    kernel = torch.randn(edge_index.shape[1], 5, generator=gen, dtype=torch.float64).to(device)
    x = torch.randn(40, 3, generator=gen, dtype=torch.float64).to(device)
    expected = torch.zeros(40, 5, 3, dtype=torch.float64, device=device)
    expected.index_add_(0, edge_index[1], kernel[:, :, None] * x[edge_index[0]][:, None, :])
    for bound in (None, 6, 9):
        got = outer_aggregate(kernel, x, edge_index, 40, max_degree=bound)
        assert torch.allclose(got, expected, atol=1e-12, rtol=0)


def test_value_checks_run_on_the_cpu_and_in_debug_mode():
    cpu = torch.zeros(2)
    assert check_values(cpu)
    set_debug(True)
    try:
        assert check_values(torch.zeros(2, device="meta"))
    finally:
        set_debug(False)
    assert not check_values(torch.zeros(2, device="meta"))
