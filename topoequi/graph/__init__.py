"""Pure-torch radius and k-NN graphs (PyG / torch-cluster semantics, no compiled extension)."""
from topoequi.graph.knn import knn, knn_graph
from topoequi.graph.radius import radius, radius_graph

__all__ = ["knn", "knn_graph", "radius", "radius_graph"]
