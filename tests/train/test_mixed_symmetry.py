"""``topoequi train mixed-symmetry``: a tiny real run writes checkpoints, logs, plots and per-part accuracies."""
import csv
import json

import pytest
import torch

from topoequi import cli


def test_train_mixed_symmetry_smoke(tmp_path, capsys):
    out = tmp_path / "run"
    common = ["train", "mixed-symmetry", "--subset", "30", "--channels", "1", "--layers", "2", "--branch-layers", "1",
              "--models", "equivariant,learnable", "--out", str(out), "--no-progress", "--threads", "1"]
    assert cli.main(common + ["--epochs", "1"]) == 0
    assert "mass on C4 per layer" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())["results"]
    assert [r["model"] for r in results] == ["equivariant", "learnable"]
    assert results[0]["parameters"] == results[1]["parameters"] - 3 * 8  # 1 shared + 2 last layers
    assert results[0]["test_size"] == 10 and all(0 <= r["digit_accuracy"] <= 1 for r in results)
    # the equivariant model keeps uniform likelihoods: every layer is exactly D4-equivariant
    assert [layer["mass_on_C4"] for layer in results[0]["layers"]] == pytest.approx([0.5, 0.5, 0.5], abs=1e-6)
    assert max(layer["max_error_mirrors"] for layer in results[0]["layers"]) < 1e-9
    for name in ("accuracy.png", "equivariant/lambda.png", "learnable/lambda.png", "learnable/curves.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    ckpt = torch.load(out / "learnable" / "last.pt", weights_only=True)
    assert ckpt["epoch"] == 1 and ckpt["config"]["model"] == "learnable"
    # a finished run is resumed (nothing left to train), never overwritten
    assert cli.main(common + ["--epochs", "1", "--resume"]) == 0
    with open(out / "learnable" / "log.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1]
    assert cli.main(common + ["--epochs", "1"]) == 2
    assert "already holds a run" in capsys.readouterr().err


@pytest.mark.slow
def test_sparsity_keeps_the_likelihoods_at_the_group(tmp_path):
    """A strong group lasso sets every non-trivial coefficient back to zero after each step: the learnable
    model stays exactly D4-invariant; without it the likelihoods move."""
    common = ["train", "mixed-symmetry", "--subset", "30", "--channels", "1", "--layers", "2", "--branch-layers", "1",
              "--models", "learnable", "--no-progress", "--threads", "1", "--epochs", "1"]
    layers = {}
    for sparsity in ("1000", "0"):
        out = tmp_path / sparsity
        assert cli.main(common + ["--sparsity", sparsity, "--out", str(out)]) == 0
        layers[sparsity] = json.loads((out / "results.json").read_text())["results"][0]["layers"]
    assert max(layer["max_error_mirrors"] for layer in layers["1000"]) < 1e-9
    assert max(abs(layer["kl_uniform"]) for layer in layers["1000"]) < 1e-6
    assert max(layer["max_error_mirrors"] for layer in layers["0"]) > 1e-6


def test_concentration_weight_adds_the_entropies_of_the_learned_likelihoods():
    from torch_geometric.loader import DataLoader

    from topoequi.datasets.digits import mixed_symmetry_digits
    from topoequi.models.relaxed_point_classifier import RelaxedPointClassifier
    from topoequi.symmetry import Dihedral
    from topoequi.train.mixed_symmetry import objectives

    batch = next(iter(DataLoader(mixed_symmetry_digits(seed=0, limit=6), batch_size=6)))
    batch.x, batch.pos = batch.x.double(), batch.pos.double()
    for mode in ("learnable", "equivariant"):
        torch.manual_seed(0)
        model = RelaxedPointClassifier(Dihedral(4), 1, [10, 2], mode=mode, channels=1, num_layers=2,
                                       branch_layers=1).double().eval()
        with torch.no_grad():
            for lam in model.likelihoods:
                if mode == "learnable":
                    lam.coefficients.normal_(0, 0.3)
        out = model(batch)
        plain = objectives(model, 0.1, 0.1)[0](out, batch)
        concentrated = objectives(model, 0.1, 0.1, concentration_weight=0.3)[0](out, batch)
        entropy = sum(float(lam.entropy().detach()) for lam in model.likelihoods)
        expected = 0.3 * entropy if mode == "learnable" else 0.0
        assert (entropy < -1e-3) == (mode == "learnable")
        assert torch.allclose(concentrated - plain, torch.full_like(plain, expected), atol=1e-12)


def test_bad_arguments(tmp_path, capsys):
    assert cli.main(["train", "mixed-symmetry", "--models", "partial", "--out", str(tmp_path)]) == 2
    assert "--models must be a comma-separated subset" in capsys.readouterr().err
    assert cli.main(["train", "mixed-symmetry", "--kl-weight", "-1", "--out", str(tmp_path)]) == 2
    assert "--kl-weight must be >= 0" in capsys.readouterr().err
    assert cli.main(["train", "mixed-symmetry", "--sparsity", "-0.5", "--out", str(tmp_path)]) == 2
    assert "--sparsity must be >= 0" in capsys.readouterr().err
    assert cli.main(["train", "mixed-symmetry", "--concentration-weight", "-0.3", "--out", str(tmp_path)]) == 2
    assert "--concentration-weight must be >= 0" in capsys.readouterr().err
    assert cli.main(["train", "mixed-symmetry", "--branch-layers", "3", "--out", str(tmp_path)]) == 2
    assert "--branch-layers must be in [1, --layers), got 3" in capsys.readouterr().err
    assert cli.main(["train", "mixed-symmetry", "--seeds", "0,x", "--out", str(tmp_path)]) == 2
    assert "--seeds must be comma-separated integers, got '0,x'" in capsys.readouterr().err
