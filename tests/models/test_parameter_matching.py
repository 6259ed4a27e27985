"""match_scale: the width scale whose parameter count is closest to a target."""
import pytest

from topoequi.models.parameter_matching import match_scale


def test_bisection_finds_the_closest_count():
    def count(s):
        return int(100 * s * s)                                      # a quadratic parameter count

    assert match_scale(count, 400) == pytest.approx(2.0, rel=1e-6)
    s = match_scale(count, 1234)
    assert abs(count(s) - 1234) <= 1 and s == pytest.approx((12.34) ** 0.5, rel=1e-3)


def test_targets_outside_the_range_give_its_ends():
    def count(s):
        return int(10 * s)

    assert match_scale(count, 0) == pytest.approx(0.1, rel=1e-6)
    assert match_scale(count, 10**6) == pytest.approx(64.0, rel=1e-6)
    assert match_scale(count, 50, low=1.0, high=2.0) == pytest.approx(2.0, rel=1e-6)
