"""Progress bars that appear only where someone watches: on a terminal, and only when asked for."""
from __future__ import annotations

from tqdm import tqdm


def progress_bar(iterable=None, enabled: bool = True, **kwargs) -> tqdm:
    """``tqdm(iterable, **kwargs)``, hidden when ``enabled`` is false or the output is not a terminal
    (redirected output then holds no carriage-return lines)."""
    return tqdm(iterable, disable=None if enabled else True, **kwargs)
