"""The commands of ``topoequi`` that are not training tasks (``evaluate``, ``reduce``, ...): each module
defines ``add_arguments(parser)`` and ``run(args) -> int``, and is imported only when chosen."""
