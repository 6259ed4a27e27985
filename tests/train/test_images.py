"""topoequi train images: a short run writes its log, checkpoints, curves and test results; bad flags."""
import argparse
import json

import pytest
import torch

from topoequi.train import images


def parse(*argv):
    parser = argparse.ArgumentParser()
    images.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.usefixtures("one_thread")   # the run sets one thread; the fixture restores the count afterwards
def test_short_run_and_resume(tmp_path):
    out = tmp_path / "run"
    args = parse("--model", "d4", "--channels", "2,3,3,4", "--epochs", "2", "--limit", "96", "--batch-size", "32",
                 "--out", str(out), "--no-progress", "--threads", "1")
    assert images.run(args) == 0
    for name in ("log.csv", "best.pt", "last.pt", "curves.png", "results.json"):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    assert results["model"] == "d4" and results["parameters"] > 100
    assert abs(results["test_error"] + results["test_accuracy"] - 1) < 1e-9 and 0 <= results["test_error"] <= 1
    assert len((out / "log.csv").read_text().strip().splitlines()) == 3  # header and two epochs
    with pytest.raises(FileExistsError, match="already holds a run"):
        images.run(args)


def test_bad_flags():
    with pytest.raises(ValueError, match="--model must be one of"):
        images.build_model("c7", (2, 2))
    with pytest.raises(ValueError, match="--channels must be positive integers"):
        images.parse_channels("4,x")
    with pytest.raises(ValueError, match="--source is required"):
        images.load_splits(parse("--dataset", "mnist-rot-amat"))


def test_mobilenets_for_digits_are_parameter_matched_and_see_padded_digits(one_thread):
    from torch_geometric.data import Batch, Data

    equivariant = images.build_model("emobilenet", (1,), width=0.5)
    plain = images.build_model("mobilenet", (1,), width=0.5)
    n_eq, n_plain = (sum(p.numel() for p in m.parameters()) for m in (equivariant, plain))
    assert abs(n_plain - n_eq) / n_eq < 0.1
    digits = Batch.from_data_list([Data(image=torch.randn(1, 1, 28, 28), y=torch.tensor([k])) for k in range(3)])
    assert equivariant.eval()(digits).shape == (3, 10) and plain.eval()(digits).shape == (3, 10)
    # the D4 model is invariant on the padded grid: rotating the padded image leaves the logits unchanged
    padded = torch.nn.functional.pad(digits.image, (2, 3, 2, 3)).double()
    net = equivariant.model.double()
    assert torch.allclose(net(torch.rot90(padded, 1, (-2, -1))), net(padded), atol=1e-9)


def test_random_shifts_move_each_digit_within_the_bound():
    x = torch.zeros(50, 1, 9, 9)
    x[:, 0, 4, 4] = 1.0  # one bright pixel in the middle
    moved = images.random_shift(x, 2, torch.Generator().manual_seed(0))
    rows, cols = (moved[:, 0] == 1).nonzero()[:, 1:].T
    assert moved.shape == x.shape and torch.equal(moved.sum((1, 2, 3)), torch.ones(50))  # one pixel each
    assert set((rows - 4).tolist()) == set((cols - 4).tolist()) == {-2, -1, 0, 1, 2}  # every offset, none beyond
    assert images.random_shift(x, 0) is x


def test_mobilenets_shift_digits_in_training_only(one_thread):
    from torch_geometric.data import Batch, Data

    seen = []
    model = images.PaddedDigits(lambda image: seen.append(image) or image.sum((1, 2, 3)), shift=2)
    digit = torch.zeros(1, 1, 28, 28)
    digit[..., 10:18, 12:14] = 1.0
    batch = Batch.from_data_list([Data(image=digit, y=torch.tensor([0]))] * 20)
    model.eval()(batch)
    padded = torch.nn.functional.pad(batch.image, (2, 3, 2, 3))
    assert torch.equal(seen[-1], padded)
    torch.manual_seed(1)
    model.train()(batch)
    assert seen[-1].shape == padded.shape and not torch.equal(seen[-1], padded)
    assert torch.equal(seen[-1].sum((1, 2, 3)), padded.sum((1, 2, 3)))  # moved, never cut: the digit fits
    with pytest.raises(ValueError, match="--shift must be a non-negative number of pixels"):
        images.run(parse("--shift", "-1"))
