"""Tiny QM9 runs trained once per session (a few seconds on 2 cores)."""
import pytest

TINY_HPARAMS = {
    "schnet": ["hidden_channels=16", "num_filters=16", "num_interactions=1", "num_gaussians=10"],
    "implicit": ["num_layers=1", "hidden_irreps='8x0e+2x1o'", "embedding_dim=8", "channels=8",
                 "max_frequency=1"],
}
"""A model that reads only (z, pos) and one that also reads the RDKit bonds."""


@pytest.fixture(scope="session")
def qm9_root(tmp_path_factory):
    from topoequi.datasets import QM9

    path = str(tmp_path_factory.mktemp("qm9"))
    QM9(path, source="sample", progress=False)
    return path


def train_tiny(root: str, out, model: str) -> str:
    """``topoequi train qm9`` on the first 80 sample molecules for 2 epochs; the path of best.pt."""
    from topoequi.cli import build_parser
    from topoequi.train import qm9

    argv = ["train", "qm9", "--target", "homo", "--model", model, "--subset", "80", "--batch-size", "16",
            "--epochs", "2", "--source", "sample", "--root", root, "--out", str(out), "--no-progress"]
    for hp in TINY_HPARAMS[model]:
        argv += ["--hp", hp]
    args = build_parser().parse_args(argv)
    qm9.check_args(args)
    qm9.train(args)
    return str(out / "best.pt")


@pytest.fixture(scope="session")
def schnet_ckpt(qm9_root, tmp_path_factory):
    return train_tiny(qm9_root, tmp_path_factory.mktemp("schnet"), "schnet")


@pytest.fixture(scope="session")
def implicit_ckpt(qm9_root, tmp_path_factory):
    return train_tiny(qm9_root, tmp_path_factory.mktemp("implicit"), "implicit")


@pytest.fixture(scope="session")
def pointcloud_ckpt(tmp_path_factory):
    """``topoequi train pointcloud`` (implicit, SO(3)) on 2 procedural shapes per class of 64 points, 1 epoch."""
    from topoequi.cli import build_parser
    from topoequi.train import pointcloud

    out = tmp_path_factory.mktemp("pointcloud")
    args = build_parser().parse_args(["train", "pointcloud", "--dataset", "shapes", "--model", "implicit",
                                      "--per-class", "2", "--num-points", "64", "--epochs", "1", "--batch-size",
                                      "12", "--out", str(out), "--no-progress"])
    pointcloud.check_args(args)
    pointcloud.train(args)
    return str(out / "best.pt")


@pytest.fixture(scope="session")
def images_ckpt(tmp_path_factory):
    """``topoequi train images`` (C4 steerable CNN, 2 + 2 fields) on 48 rotated digits per split, 1 epoch."""
    from topoequi.cli import build_parser
    from topoequi.train import images

    out = tmp_path_factory.mktemp("images")
    args = build_parser().parse_args(["train", "images", "--model", "c4", "--channels", "2,2", "--epochs", "1",
                                      "--limit", "48", "--batch-size", "16", "--out", str(out), "--no-progress"])
    images.run(args)
    return str(out / "best.pt")


@pytest.fixture(scope="session")
def split_molecules(qm9_root):
    """``split_molecules(predictor)``: the QM9 sample molecules of the predictor's test split, in order."""
    from topoequi.datasets import QM9

    def molecules(predictor):
        dataset = QM9(qm9_root, source="sample", subset=predictor.config["subset"], progress=False)
        return [dataset[int(i)] for i in dataset.split(predictor.config["split"])["test"]]

    return molecules


@pytest.fixture(scope="session")
def water():
    """Water as ``(atomic number, (x, y, z))`` rows, Angstrom."""
    return [(8, (0.0, 0.0, 0.1173)), (1, (0.0, 0.7572, -0.4692)), (1, (0.0, -0.7572, -0.4692))]
