import pytest

from tts.registry import Registry


def test_lazy_targets_resolve_on_first_use():
    reg: Registry = Registry("thing")
    reg.register("path", "pathlib:PurePosixPath")
    assert reg.get("path")("a/b").name == "b"


def test_unknown_names_suggest_the_closest():
    reg: Registry = Registry("strategy")
    reg.register("best_of_n", object())
    reg.register("majority", object())
    with pytest.raises(KeyError, match="did you mean 'best_of_n'"):
        reg.get("best_of_m")


def test_double_registration_is_refused():
    reg: Registry = Registry("x")
    reg.register("a", 1)
    with pytest.raises(ValueError):
        reg.register("a", 2)
    reg.register("a", 2, replace=True)
    assert reg.get("a") == 2
