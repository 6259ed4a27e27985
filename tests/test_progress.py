"""Progress bars: shown on a terminal when asked for, silent otherwise, the iterable passed through."""
import io

from topoequi.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_bar():
    out = Terminal()
    assert list(progress_bar(range(3), file=out, desc="build")) == [0, 1, 2]
    assert "build" in out.getvalue() and "3/3" in out.getvalue()


def test_no_bar_when_not_asked_or_not_a_terminal():
    for enabled, out in ((False, Terminal()), (True, io.StringIO())):
        bar = progress_bar(range(4), enabled=enabled, file=out)
        assert bar.disable and list(bar) == [0, 1, 2, 3]
        assert out.getvalue() == ""
