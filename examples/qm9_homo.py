"""Fit QM9 HOMO energies with implicit steerable kernels on the embedded 5,000-molecule sample.

    python examples/qm9_homo.py          # a minute on 2 cores; `topoequi train qm9` is the full job
"""
import torch
from torch_geometric.loader import DataLoader

from topoequi.datasets import QM9, target_index
from topoequi.models import SteerableMoleculeNet

torch.manual_seed(0)
dataset = QM9(source="sample")                # real molecules, no download
homo = target_index("homo")                   # PyG's target layout: column 2, in eV
train, test = dataset[:1000], dataset[4500:]
mean = train.y[:, homo].mean()
std = train.y[:, homo].std()

model = SteerableMoleculeNet(kernel="implicit", group="O(3)", num_layers=2)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
for epoch in range(3):
    for batch in DataLoader(train, batch_size=32, shuffle=True):
        optimizer.zero_grad()
        loss = (model(batch) - (batch.y[:, homo] - mean) / std).abs().mean()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: last batch L1 (standardized) {loss.item():.3f}")

model.eval()
with torch.no_grad():
    errors = [(model(b) * std + mean - b.y[:, homo]).abs() for b in DataLoader(test, batch_size=64)]
print(f"test MAE after 3 short epochs: {1000 * torch.cat(errors).mean():.0f} meV "
      f"(predicting the mean: {1000 * (test.y[:, homo] - mean).abs().mean():.0f} meV)")
