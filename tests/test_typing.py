"""Optional packages: each flag says whether its package imports, and the table lists every flag."""
import importlib.util

import pytest

from topoequi import typing as optional


@pytest.mark.parametrize("module, expected", [("math", True), ("torch.nn", True), ("no_such_module_xyz", False),
                                              ("numpy.no_such_submodule", False), ("no_such_parent.child", False)])
def test_has_answers_without_raising(module, expected):
    assert optional._has(module) is expected


def test_the_table_lists_every_flag_with_its_value():
    flags = {name: value for name, value in vars(optional).items() if name.startswith("WITH_")}
    assert {f"WITH_{key.upper().replace('-', '_')}": value for key, value in optional.OPTIONAL.items()} == flags
    assert all(isinstance(value, bool) for value in flags.values())
    assert optional.OPTIONAL["pandas"] is optional.WITH_PANDAS is (importlib.util.find_spec("pandas") is not None)
    assert optional.OPTIONAL["giotto-ph"] is optional.WITH_GIOTTO_PH is (importlib.util.find_spec("gph") is not None)
