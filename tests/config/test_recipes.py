import pytest

from tts.config import RunConfig, apply_overrides, load_recipe, parse_override, recipes_dir
from tts.shard import parse_shard, take_shard

RECIPES = sorted(p.stem for p in recipes_dir().glob("*.yaml"))


def test_every_internvl3_size_of_the_table_has_a_recipe():
    for size in ("1b", "2b", "8b", "9b", "14b", "38b", "78b"):
        assert f"internvl3-{size}_visualprm-bo8" in RECIPES
    assert any(r.startswith("mpo-pairs") for r in RECIPES)


@pytest.mark.parametrize("name", RECIPES)
def test_recipes_load_and_validate(name):
    cfg = load_recipe(name)
    assert cfg.critic.startswith("OpenGVLab/VisualPRM")
    assert cfg.policy.startswith("OpenGVLab/InternVL3-")


def test_the_seeds_setting_of_the_8b_recipe():
    cfg = load_recipe("internvl3-8b_visualprm-bo8")
    assert (cfg.n, cfg.temperature, cfg.top_p, cfg.max_new_tokens, cfg.first_greedy) == (8, 0.7, 0.95, 4096, True)
    assert cfg.critic == "OpenGVLab/VisualPRM-8B-v1_1" and cfg.benchmarks == ("reasoning7",)
    assert cfg.expected["best_of_n/mean"]["overall"] == 50.2 and cfg.expected["greedy"]["overall"] == 44.3
    seven = ("mmmu", "mathvista", "mathvision", "mathverse", "dynamath", "wemath", "logicvista")
    for row in cfg.expected.values():  # the table's Overall is the mean of the seven, to one decimal
        assert round(sum(row[b] for b in seven) / 7, 1) == pytest.approx(row["overall"], abs=0.051)


def test_unknown_keys_are_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: p\ncritic: c\ntemprature: 0.5\n")
    with pytest.raises(ValueError, match="did you mean temperature"):
        load_recipe(bad)
    with pytest.raises(ValueError, match="unknown key"):
        load_recipe("internvl3-8b_visualprm-bo8", ["nn=2"])


@pytest.mark.parametrize("text,key,value", [
    ("n=2", "n", 2), ("first_greedy=false", "first_greedy", False), ("limit=null", "limit", None),
    ("benchmarks=[mathvista:testmini, mmmu]", "benchmarks", ["mathvista:testmini", "mmmu"]),
    ("policy=/tmp/x", "policy", "/tmp/x"), ("temperature=0.3", "temperature", 0.3),
])
def test_override_values_are_yaml_typed(text, key, value):
    assert parse_override(text) == (key, value)


def test_dotted_overrides_reach_into_option_mappings():
    cfg = apply_overrides(RunConfig("p", "c"), ["engine_options.tensor_parallel_size=4", "n=2"])
    assert cfg.engine_options == {"tensor_parallel_size": 4} and cfg.n == 2
    with pytest.raises(ValueError, match="dotted"):
        apply_overrides(cfg, ["n.x=1"])


def test_shards_partition_the_problems():
    items = list(range(23))
    parts = [take_shard(items, i, 4) for i in range(4)]
    assert sorted(x for p in parts for x in p) == items
    assert all(len(p) in (5, 6) for p in parts)
    for bad in ("4/4", "-1/2", "x", "1/0"):
        with pytest.raises(ValueError):
            parse_shard(bad)
