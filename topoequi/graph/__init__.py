"""Pure-torch radius and k-NN graphs and farthest-point sampling (PyG / torch-cluster semantics, no compiled
extension)."""
from topoequi.graph.fps import fps
from topoequi.graph.knn import knn, knn_graph
from topoequi.graph.radius import radius, radius_graph

__all__ = ["fps", "knn", "knn_graph", "radius", "radius_graph"]
