"""topoequi bound: the printed terms are those of pac_bayes_bounds; usage errors are one line."""
import argparse

import numpy as np
import pytest
import torch

from topoequi.commands.bound import add_arguments, run, save_bound_checkpoint
from topoequi.theory import pac_bayes_bounds
from topoequi.theory.networks import homogeneous_cnn


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bound")
    torch.manual_seed(0)
    model = homogeneous_cnn("C2", (1, 2, 2), kernel_size=3)
    save_bound_checkpoint(folder / "net.pt", model, "C2", (1, 2, 2), kernel_size=3)
    gen = torch.Generator().manual_seed(1)
    images = torch.rand(16, 1, 8, 8, generator=gen)
    labels = torch.randint(0, 10, (16,), generator=gen)
    np.savez(folder / "data.npz", images=images.numpy(), labels=labels.numpy())
    return folder, model.eval(), images, labels


def test_bound_command_prints_the_terms_of_the_bound(saved, capsys):
    folder, model, images, labels = saved
    assert run(_args(str(folder / "net.pt"), "--data", str(folder / "data.npz"), "--gamma", "0.01")) == 0
    out = capsys.readouterr().out
    equivariant, nbs18 = pac_bayes_bounds(model, images, labels, 0.01)
    bound_line = next(line for line in out.splitlines() if line.startswith("bound "))
    values = [float(v) for v in bound_line.split()[1:]]
    assert values == pytest.approx([equivariant.value, nbs18.value], rel=1e-5)
    assert "16 training examples, gamma 0.01" in out and "eta" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["--gamma", "0"], "--gamma must be positive, got 0.0"),
    (["--gamma", "-2"], "--gamma must be positive"),
    (["--limit", "0"], "the bound needs at least 2 training examples, got 0"),
    (["--quantile", "1.5"], r"--quantile must be in \(0, 1\)"),
])
def test_bad_arguments_are_refused(saved, argv, message):
    folder = saved[0]
    with pytest.raises(ValueError, match=message):
        run(_args(str(folder / "net.pt"), "--data", str(folder / "data.npz"), *argv))


def test_bad_files_are_named(saved, tmp_path):
    folder = saved[0]
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        run(_args(str(folder / "net.pt"), "--data", str(tmp_path / "missing.npz")))
    torch.save({"config": {"task": "images"}, "model": {}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="is not a bound checkpoint: it lacks group, fields, kernel_size"):
        run(_args(str(tmp_path / "other.pt"), "--data", str(folder / "data.npz")))
    with pytest.raises(ValueError, match="--data must be rotated-mnist"):
        run(_args(str(folder / "net.pt"), "--data", "cifar"))


def test_bound_command_rebuilds_max_pooling_networks_of_mixed_fields(saved, tmp_path, capsys):
    folder, _, images, labels = saved
    torch.manual_seed(1)
    kinds = ("regular", "quotient2", "trivial")
    model = homogeneous_cnn("C4", (1, 1, 1), kernel_size=3, pooling="max", fields=kinds)
    save_bound_checkpoint(tmp_path / "mixed.pt", model, "C4", (1, 1, 1), kernel_size=3, pooling="max",
                          field_kinds=kinds)
    assert run(_args(str(tmp_path / "mixed.pt"), "--data", str(folder / "data.npz"), "--gamma", "0.02")) == 0
    equivariant, nbs18 = pac_bayes_bounds(model.eval(), images, labels, 0.02)
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("bound "))
    assert [float(v) for v in line.split()[1:]] == pytest.approx([equivariant.value, nbs18.value], rel=1e-5)
    assert "MaxPool2d" in repr(model) and "FieldPooling" in repr(model)


def test_rotated_mnist_is_downsampled_and_cropped_like_the_benchmark():
    from topoequi.commands.bound import load_examples

    images, labels = load_examples(_args("net.pt", "--limit", "3", "--crop", "12"))
    full, _ = load_examples(_args("net.pt", "--limit", "3"))
    assert images.shape == (3, 1, 12, 12) and full.shape == (3, 1, 14, 14) and labels.shape == (3,)
    assert torch.equal(images, full[..., 1:13, 1:13])
    with pytest.raises(ValueError, match=r"--crop must be in \[1, 14\], got 20"):
        load_examples(_args("net.pt", "--limit", "3", "--crop", "20"))
