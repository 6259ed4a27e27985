"""Complete models built from ``topoequi.nn`` and PyG baselines made dependency-free."""
from topoequi.models.dimenet import DimeNetPlusPlus, triplets
from topoequi.models.schnet import SchNet

__all__ = ["DimeNetPlusPlus", "SchNet", "triplets"]
