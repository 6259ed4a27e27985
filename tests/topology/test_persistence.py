"""Persistence diagrams of every filtration: clear errors on bad input, the same diagrams and gradients on CUDA."""
import pytest
import torch

from topoequi.topology import clique_diagram, cubical_diagram, rips_diagram


def test_bad_input_raises_clear_errors():
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="node_values must have shape \\[3\\]"):
        clique_diagram(ei, 3, node_values=torch.zeros(4))
    with pytest.raises(ValueError, match="node_values holds NaN"):
        clique_diagram(ei, 3, node_values=torch.tensor([0.0, float("nan"), 1.0]))
    with pytest.raises(ValueError, match="edge_values must have shape \\[2\\]"):
        clique_diagram(ei, 3, edge_values=torch.zeros(3))
    with pytest.raises(ValueError, match="not monotone"):
        clique_diagram(ei, 3, node_values=torch.tensor([0.0, 2.0, 0.0]), edge_values=torch.tensor([1.0, 3.0]))
    with pytest.raises(ValueError, match="empty"):
        clique_diagram(torch.zeros(2, 0, dtype=torch.long), 0, node_values=torch.zeros(0))
    with pytest.raises(ValueError, match="give node_values"):
        clique_diagram(ei, 3)
    with pytest.raises(ValueError, match="needs at least 3"):
        rips_diagram(torch.randn(2, 2), max_dim=1)
    with pytest.raises(ValueError, match="pos holds NaN"):
        rips_diagram(torch.tensor([[0.0, 1.0], [float("nan"), 0.0], [1.0, 1.0]]), max_dim=0)
    with pytest.raises(ValueError, match="engine must be one of"):
        rips_diagram(torch.randn(5, 2), engine="ripser")
    with pytest.raises(ValueError, match="max_dim must be an int in \\[0, 1\\]"):
        cubical_diagram(torch.rand(4, 4), max_dim=2)
    with pytest.raises(ValueError, match="images holds NaN"):
        cubical_diagram(torch.tensor([[0.0, float("nan")], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="images is empty"):
        cubical_diagram(torch.zeros(0, 3, 3))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_inputs_give_the_cpu_diagrams_and_gradients(random_graph):
    pos = torch.randn(30, 2, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    images = torch.rand(2, 6, 6, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    edge_index, x = random_graph(15, 0.3, seed=11), torch.rand(15, dtype=torch.float64)
    cases = [(lambda p: rips_diagram(p), pos), (lambda im: cubical_diagram(im), images),
             (lambda v: clique_diagram(edge_index.to(v.device), 15, node_values=v), x)]
    for fn, value in cases:
        grads = []
        for device in ("cpu", "cuda"):
            leaf = value.to(device).requires_grad_(True)
            diagram = fn(leaf)
            assert all(p.device.type == device for p in diagram.points + diagram.batch)
            sum(p.sum() for p in diagram.points).backward()
            grads.append(leaf.grad.cpu())
        torch.testing.assert_close(grads[0], grads[1])
