"""Loaders that build mini-batches where the model runs."""
from topoequi.loader.device_loader import DeviceLoader, device_loader_or_none

__all__ = ["DeviceLoader", "device_loader_or_none"]
