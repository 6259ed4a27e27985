"""Loaders that build mini-batches where the model runs."""
from topoequi.loader.device_loader import DeviceLoader

__all__ = ["DeviceLoader"]
