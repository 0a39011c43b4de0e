import logging
from pathlib import Path

import pytest
import yaml

from tts.config import (
    DataConfig,
    ModelConfig,
    RunConfig,
    SamplingParams,
    apply_overrides,
    load_recipe,
    parse_override,
    recipes_dir,
)
from tts.errors import ConfigError, RecipeNotFound, TTSError
from tts.shard import parse_shard, take_shard

RECIPES = sorted(p.stem for p in recipes_dir().glob("*.yaml"))


def _cfg(**options) -> RunConfig:
    return RunConfig.of("p", "c", **options)


def test_every_internvl3_size_of_the_table_has_a_recipe():
    for size in ("1b", "2b", "8b", "9b", "14b", "38b", "78b"):
        assert f"internvl3-{size}_visualprm-bo8" in RECIPES
    assert any(r.startswith("mpo-pairs") for r in RECIPES)


@pytest.mark.parametrize("name", RECIPES)
def test_recipes_load_and_validate(name, caplog):
    with caplog.at_level(logging.WARNING):
        cfg = load_recipe(name)
    assert not caplog.records  # the bundled recipes use the nested keys: no deprecation warning
    assert cfg.models.critic.startswith("OpenGVLab/VisualPRM")
    assert cfg.models.policy.startswith("OpenGVLab/InternVL3-")
    assert RunConfig.from_mapping(cfg.to_json()) == cfg


@pytest.mark.parametrize("name", RECIPES)
def test_bundled_recipes_are_nested(name):
    data = yaml.safe_load((recipes_dir() / f"{name}.yaml").read_text())
    assert {"models", "sampling", "data", "selection"} <= set(data)
    assert set(data) <= {"description", "models", "sampling", "data", "selection", "pairs", "search", "expected", "out"}


def test_the_seeds_setting_of_the_8b_recipe():
    cfg = load_recipe("internvl3-8b_visualprm-bo8")
    s = cfg.sampling
    assert (s.n, s.temperature, s.top_p, s.max_new_tokens, s.first_greedy) == (8, 0.7, 0.95, 4096, True)
    assert cfg.models.critic == "OpenGVLab/VisualPRM-8B-v1_1" and cfg.data.benchmarks == ("reasoning7",)
    assert cfg.models.critic_options == {"max_steps": 12, "default_system_message": "visualprm_system",
                                         "score_rounding": "bf16"}  # the evaluation-fidelity settings (issue 16)
    assert cfg.expected["best_of_n/mean"]["overall"] == 50.2 and cfg.expected["greedy"]["overall"] == 44.3
    seven = ("mmmu", "mathvista", "mathvision", "mathverse", "dynamath", "wemath", "logicvista")
    for row in cfg.expected.values():  # the table's Overall is the mean of the seven, to one decimal
        assert round(sum(row[b] for b in seven) / 7, 1) == pytest.approx(row["overall"], abs=0.051)


def test_the_seeds_defaults_are_typed_once():
    """The Best-of-8 defaults live in SamplingParams; the run config and the CLI read them from there."""
    import inspect

    from tts.cli.bestofn import bestofn
    from tts.cli.stages import sample

    s = SamplingParams()
    assert (s.n, s.temperature, s.top_p, s.max_new_tokens) == (8, 0.7, 0.95, 4096)
    assert _cfg().sampling == s
    for command in (bestofn, sample):
        params = inspect.signature(command).parameters
        for name in ("n", "temperature", "top_p", "top_k", "max_new_tokens", "seed", "first_greedy"):
            assert params[name].default.default == getattr(s, name), (command.__name__, name)


def test_unknown_keys_are_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: {policy: p, critic: c}\nsampling: {temprature: 0.5}\n")
    with pytest.raises(ConfigError, match=r"did you mean sampling\.temperature"):
        load_recipe(bad)
    bad.write_text("models: {policy: p, critic: c}\ntemprature: 0.5\n")
    with pytest.raises(ValueError, match=r"did you mean sampling\.temperature"):
        load_recipe(bad)
    with pytest.raises(ValueError, match="unknown key"):
        load_recipe("internvl3-8b_visualprm-bo8", ["nn=2"])
    with pytest.raises(ConfigError, match=r"missing required key\(s\): models\.critic"):
        RunConfig.from_mapping({"models": {"policy": "p"}})
    with pytest.raises(RecipeNotFound, match="did you mean internvl3-8b_visualprm-bo8"):
        load_recipe("internvl3-8b_visualprm-b08")


def test_flat_keys_of_older_recipes_still_load_with_a_deprecation_line(tmp_path, caplog):
    old = tmp_path / "old.yaml"
    old.write_text("policy: p\ncritic: c\nn: 4\nengine_options: {tensor_parallel_size: 2}\nbenchmarks: [mmmu]\n"
                   "strategies: [majority]\npairs: {method: prm, min_margin: 0.1}\n")
    with caplog.at_level(logging.WARNING, logger="tts.config"):
        cfg = load_recipe(old)
    assert cfg == RunConfig.from_mapping({
        "models": {"policy": "p", "critic": "c", "engine_options": {"tensor_parallel_size": 2}},
        "sampling": {"n": 4}, "data": {"benchmarks": ["mmmu"]}, "selection": {"strategies": ["majority"]},
        "pairs": {"method": "prm", "min_margin": 0.1}})
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 6 and all("\n" not in m and "deprecated" in m for m in messages)
    assert any("'n' is deprecated: write sampling.n" in m for m in messages)
    old.write_text("policy: p\ncritic: c\nn: 4\nsampling: {n: 2}\n")
    with pytest.raises(ConfigError, match="given twice"):
        load_recipe(old)


def test_flat_overrides_still_work_with_a_deprecation_line(caplog):
    with caplog.at_level(logging.WARNING, logger="tts.config"):
        cfg = apply_overrides(_cfg(), ["n=2", "engine_options.tensor_parallel_size=4", "critic_options.max_steps=3"])
    assert cfg.sampling.n == 2 and cfg.models.engine_options == {"tensor_parallel_size": 4}
    assert cfg.models.critic_options == {"max_steps": 3}
    assert [r.getMessage().split(" is deprecated")[0] for r in caplog.records] == [
        "--set n=…", "--set engine_options.tensor_parallel_size=…", "--set critic_options.max_steps=…"]


@pytest.mark.parametrize("text,key,value", [
    ("sampling.n=2", "sampling.n", 2), ("sampling.first_greedy=false", "sampling.first_greedy", False),
    ("data.limit=null", "data.limit", None),
    ("data.benchmarks=[mathvista:testmini, mmmu]", "data.benchmarks", ["mathvista:testmini", "mmmu"]),
    ("models.policy=/tmp/x", "models.policy", "/tmp/x"), ("sampling.temperature=0.3", "sampling.temperature", 0.3),
])
def test_override_values_are_yaml_typed(text, key, value):
    assert parse_override(text) == (key, value)


def test_dotted_overrides_reach_into_records_and_option_mappings():
    cfg = apply_overrides(_cfg(), ["models.engine_options.tensor_parallel_size=4", "sampling.n=2",
                                   "pairs.method=prm", "pairs.min_margin=0.1", "expected.greedy.mmmu=62.7"])
    assert cfg.models.engine_options == {"tensor_parallel_size": 4} and cfg.sampling.n == 2
    assert cfg.pairs is not None and cfg.pairs.method == "prm" and cfg.pairs.options == {"min_margin": 0.1}
    assert cfg.expected == {"greedy": {"mmmu": 62.7}}
    assert apply_overrides(cfg, ["pairs=null"]).pairs is None
    with pytest.raises(ValueError, match="dotted"):
        apply_overrides(cfg, ["sampling.n.x=1"])
    with pytest.raises(ConfigError, match=r"unknown key pairs\.min_marign \(did you mean pairs\.min_margin"):
        apply_overrides(cfg, ["pairs.min_marign=1"])


@pytest.mark.parametrize("override,message", [
    ("sampling.n=eight", "sampling.n must be an integer, got 'eight'"),
    ("n=eight", "sampling.n must be an integer, got 'eight'"),
    ("sampling.n=0", "sampling.n must be >= 1"),
    ("sampling.temperature=[0.7]", "sampling.temperature must be a number"),
    ("sampling.first_greedy=maybe", "sampling.first_greedy must be true or false"),
    ("data.benchmarks=[]", "data.benchmarks must name at least one benchmark"),
    ("data.benchmarks={a: 1}", "data.benchmarks must be a list"),
    ("data.shard=4/4", "--shard 4/4: need 0 <= I < K"),
    ("models.engine_options=3", "models.engine_options must be a mapping"),
    ("models.batch_size=0", "models.batch_size must be >= 1"),
    ("expected.greedy.mmmu=high", r"expected\.greedy\.mmmu must be a number"),
])
def test_wrong_values_are_one_config_error(override, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(_cfg(), [override])


def test_values_are_converted_where_the_meaning_is_obvious():
    cfg = apply_overrides(_cfg(), ["sampling.temperature=1", "data.benchmarks=mmmu", "models.critic_label=2025",
                                   'data.ids=["a", 7]'])
    assert cfg.sampling.temperature == 1.0 and isinstance(cfg.sampling.temperature, float)
    assert cfg.data.benchmarks == ("mmmu",) and cfg.models.critic_label == "2025" and cfg.data.ids == ("a", "7")


def test_the_api_builder_takes_leaf_fields_or_records():
    a = RunConfig.of("p", "c", n=2, temperature=0.5, benchmarks=["mmmu"], engine="vllm", out="runs/x")
    b = RunConfig(models=ModelConfig("p", "c", engine="vllm"), sampling=SamplingParams(n=2, temperature=0.5),
                  data=DataConfig(benchmarks=("mmmu",)), out="runs/x")
    assert a == b == RunConfig.of("p", "c", sampling=SamplingParams(n=2, temperature=0.5), data=DataConfig(("mmmu",)),
                                  engine="vllm", out="runs/x")
    with pytest.raises(ConfigError, match="did you mean temperature="):
        RunConfig.of("p", "c", temprature=0.5)
    with pytest.raises(ConfigError, match="both given"):
        RunConfig.of("p", "c", n=2, sampling=SamplingParams())


def test_config_errors_are_user_errors_and_value_errors():
    assert issubclass(ConfigError, TTSError) and issubclass(ConfigError, ValueError)


def test_shards_partition_the_problems():
    items = list(range(23))
    parts = [take_shard(items, i, 4) for i in range(4)]
    assert sorted(x for p in parts for x in p) == items
    assert all(len(p) in (5, 6) for p in parts)
    for bad in ("4/4", "-1/2", "x", "1/0"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_recipes_dir_is_the_bundled_folder():
    assert recipes_dir() == Path(__file__).resolve().parents[2] / "recipes"
