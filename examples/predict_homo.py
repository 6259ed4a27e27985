"""Predict QM9 HOMO energies of new molecules with a trained model: two lines from checkpoint to values.

    make run                          # trains runs/make-run-qm9-homo/best.pt (a few minutes)
    python examples/predict_homo.py   # uses it; without it, trains a tiny SchNet first (seconds)

Reading XYZ files for the default (implicit) model and SMILES strings needs
RDKit (``pip install 'topoequi[qm9]'``); without it those rows say so and the
dataset molecules are still predicted.
"""
import tempfile
from pathlib import Path

import topoequi
from topoequi.cli import main
from topoequi.datasets import QM9
from topoequi.inference import Molecule, write_xyz

CHECKPOINT = Path(__file__).resolve().parents[1] / "runs" / "make-run-qm9-homo" / "best.pt"
folder = Path(tempfile.mkdtemp(prefix="predict-homo-"))

checkpoint = CHECKPOINT
if not checkpoint.is_file():
    print(f"{CHECKPOINT} is missing (run `make run`); training a tiny SchNet instead")
    main(["train", "qm9", "--target", "homo", "--model", "schnet", "--subset", "600", "--epochs", "3",
          "--source", "sample", "--out", str(folder / "tiny"), "--no-progress",
          "--hp", "hidden_channels=32", "--hp", "num_filters=32", "--hp", "num_interactions=2"])
    checkpoint = folder / "tiny" / "best.pt"

model = topoequi.load(checkpoint)  # knows its target, unit, standardisation and featurisation
print(model.describe())

# four molecules of the run's own test split, written as one multi-frame XYZ file
dataset = QM9(source=model.config["source"], subset=model.config["subset"], progress=False)
test = [dataset[int(i)] for i in dataset.split(model.config["split"])["test"][:4]]
write_xyz(folder / "test_molecules.xyz", [Molecule.from_arrays(d.name, d.z, d.pos) for d in test])
print("\nfrom an XYZ file (DFT value of QM9 in brackets):")
for prediction, d in zip(model.predict(folder / "test_molecules.xyz"), test):
    print(f"  {prediction}  [{float(d.y[0, 2]):.3f} eV]")
print("the same molecules as PyG Data:")
for prediction in model.predict(test):
    print(f"  {prediction}")

print("\nfrom SMILES (RDKit ETKDG + MMFF94 geometries, not QM9's DFT ones):")
for prediction in model.predict(["O", "CCO", "c1ccccc1", "CCCl"]):
    print(f"  {prediction}")
