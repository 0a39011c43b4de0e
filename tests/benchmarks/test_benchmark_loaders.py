"""The seven loaders read hub-layout copies offline through ``datasets.load_dataset`` and map rows into Problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures import images as fx_images
from tests.fixtures.reasoning7 import PWNED_MARKER
from tts.benchmarks import (
    REASONING7,
    BenchmarkError,
    expand_spec,
    load_problems,
    max_tiles,
    parse_full_spec,
    parse_spec,
    upscale_first_image,
)
from tts.images import ImageStore, load_rgb
from tts.records import Problem

pytest_plugins = ["tests.fixtures.pytest_fixtures"]  # hf_cache, reasoning7_root


def load(spec: str, root: Path, tmp_path: Path, **kwargs):
    return load_problems(spec, store=ImageStore(tmp_path / "run"), data_dir=root, **kwargs)


def ids(loaded) -> list[str]:
    return [p.id for p in loaded.problems]


def image_bytes(tmp_path: Path, ref: str) -> bytes:
    return (tmp_path / "run" / ref).read_bytes()


# ------------------------------------------------------------------------------------------------ MathVista
def test_mathvista_rows_map_into_problems(reasoning7_root, tmp_path):
    loaded = load("mathvista", reasoning7_root, tmp_path)
    assert ids(loaded) == [f"mathvista-testmini-{i}" for i in (1, 2, 3, 4)]
    mc, integer, flt, lst = loaded.problems
    assert (mc.question_type, mc.answer_type, mc.choices, mc.answer) == ("multi_choice", "text", ("Yes", "No"), "No")
    assert (integer.answer_type, integer.answer, integer.precision) == ("integer", "3", None)
    assert (flt.answer_type, flt.answer, flt.precision) == ("float", "1.5", 1)
    assert isinstance(flt.precision, int)
    assert (lst.answer_type, lst.answer) == ("list", "[2007, 2008]")
    assert mc.meta["query"].startswith("Hint: Please answer the question and provide the correct option letter")
    assert mc.meta["metadata"]["skills"] == ["arithmetic reasoning"]
    assert {p.benchmark for p in loaded.problems} == {"mathvista"} and {p.split for p in loaded.problems} == {"testmini"}


def test_bad_rows_are_skipped_with_a_clear_warning(reasoning7_root, tmp_path):
    loaded = load("mathvista", reasoning7_root, tmp_path)
    assert len(loaded.warnings) == 2
    corrupt, missing = loaded.warnings
    assert "mathvista:testmini row 4 (mathvista-testmini-5)" in corrupt and "undecodable image" in corrupt
    assert "mathvista-testmini-6" in missing and "missing image" in missing and missing.endswith("skipped")


def test_strict_turns_a_bad_row_into_an_error(reasoning7_root, tmp_path):
    with pytest.raises(BenchmarkError, match=r"mathvista-testmini-5.*undecodable image.*--strict"):
        load("mathvista", reasoning7_root, tmp_path, strict=True)


def test_test_split_hides_answers_and_spans_shards(reasoning7_root, tmp_path):
    loaded = load("mathvista:test", reasoning7_root, tmp_path)
    assert ids(loaded) == ["mathvista-test-1001", "mathvista-test-1002"]
    assert [p.answer for p in loaded.problems] == [None, None]
    assert loaded.problems[0].unit == "cm"


def test_images_keep_original_bytes_and_convert_to_rgb(reasoning7_root, tmp_path):
    loaded = load("mathvista", reasoning7_root, tmp_path)
    rgba, palette, cmyk, _ = loaded.problems
    assert image_bytes(tmp_path, rgba.images[0]) == fx_images.png_rgba()
    assert image_bytes(tmp_path, palette.images[0]) == fx_images.png_palette_transparent()
    assert cmyk.images[0].endswith(".jpg")
    for p in loaded.problems:
        assert load_rgb(tmp_path / "run" / p.images[0]).mode == "RGB"


def test_limit_ids_and_stable_order(reasoning7_root, tmp_path):
    assert ids(load("mathvista", reasoning7_root, tmp_path, limit=2)) == ["mathvista-testmini-1", "mathvista-testmini-2"]
    assert ids(load("mathvista", reasoning7_root, tmp_path, limit=0)) == []
    picked = load("mathvista", reasoning7_root, tmp_path, ids={"mathvista-testmini-3", "mathvista-testmini-5"})
    assert ids(picked) == ["mathvista-testmini-3"] and len(picked.warnings) == 1
    assert ids(load("dynamath", reasoning7_root, tmp_path)) == ids(load("dynamath", reasoning7_root, tmp_path))


# ----------------------------------------------------------------------------------------------- MathVision
def test_mathvision(reasoning7_root, tmp_path):
    loaded = load("mathvision", reasoning7_root, tmp_path)
    assert ids(loaded) == ["mathvision-test-1", "mathvision-test-2", "mathvision-test-3"]
    mc, in_image, open_ = loaded.problems
    assert mc.choices == ("7", "8", "9", "10", "11") and mc.answer == "B" and mc.question_type == "multi_choice"
    assert in_image.choices == ("A", "B", "C", "D", "E")
    assert (open_.question_type, open_.answer_type, open_.answer) == ("free_form", "expression", "\\frac{16}{7}")
    assert mc.question.startswith("<image1>") and mc.meta["level"] == 2 and mc.meta["subject"] == "counting"
    assert ["missing image" in w for w in loaded.warnings] == [True]
    assert ids(load("mathvision:testmini", reasoning7_root, tmp_path)) == ["mathvision-testmini-1"]


# ------------------------------------------------------------------------------------------------------ MMMU
def test_mmmu_subset_multi_image_options_and_multi_gold(reasoning7_root, tmp_path):
    loaded = load("mmmu:validation@Math", reasoning7_root, tmp_path)
    assert ids(loaded) == ["mmmu-validation_Math_1", "mmmu-validation_Math_2", "mmmu-validation_Math_3",
                           "mmmu-validation_Math_7"]
    single, multi, gold_list, open_int = loaded.problems
    assert single.choices == ("30", "45", "60", "90") and single.answer == "B"
    assert multi.choices == ("<image 1>", "<image 2>") and len(multi.images) == 2
    assert image_bytes(tmp_path, multi.images[0]) == fx_images.png_rgb("red")
    assert image_bytes(tmp_path, multi.images[1]) == fx_images.png_palette_transparent()
    assert gold_list.answer == ("24/7", "3.429") and gold_list.golds == ("24/7", "3.429")
    assert (gold_list.question_type, gold_list.answer_type) == ("free_form", "text")
    assert (open_int.answer, open_int.answer_type) == ("12", "integer")
    assert single.meta["subject"] == "Math" and single.meta["discipline"] == "Science"


def test_mmmu_malformed_options_are_never_evaluated(reasoning7_root, tmp_path):
    loaded = load("mmmu:validation@math", reasoning7_root, tmp_path)
    reasons = {w.split(" (")[1].split(")")[0]: w for w in loaded.warnings}
    assert set(reasons) == {"mmmu-validation_Math_4", "mmmu-validation_Math_5", "mmmu-validation_Math_6"}
    assert "malformed options" in reasons["mmmu-validation_Math_4"]
    assert "malformed options" in reasons["mmmu-validation_Math_5"]
    assert "refers to <image 2> but image_2 is empty" in reasons["mmmu-validation_Math_6"]
    assert not (reasoning7_root / PWNED_MARKER).exists()


def test_mmmu_subjects_concatenate_in_order_and_splits(reasoning7_root, tmp_path):
    loaded = load("mmmu:validation", reasoning7_root, tmp_path, subset=["Art", "Math"])
    assert ids(loaded)[0] == "mmmu-validation_Art_1" and ids(loaded)[1:] == ids(
        load("mmmu@Math", reasoning7_root, tmp_path))
    test = load("mmmu:test@Art", reasoning7_root, tmp_path)
    assert ids(test) == ["mmmu-test_Art_1"] and test.problems[0].answer is None
    assert ids(load("mmmu:dev@Art", reasoning7_root, tmp_path)) == ["mmmu-dev_Art_1"]
    with pytest.raises(BenchmarkError, match="no subset 'Maths'"):
        load("mmmu@Maths", reasoning7_root, tmp_path)


@pytest.mark.slow
def test_mmmu_loads_all_thirty_subject_configs_by_default(reasoning7_root, tmp_path):
    loaded = load("mmmu", reasoning7_root, tmp_path)
    subjects = [p.meta["subject"] for p in loaded.problems]
    assert len(set(subjects)) == 30 and subjects == sorted(subjects)
    assert len(loaded.problems) == 29 + 4 and len(loaded.warnings) == 3


# ------------------------------------------------------------------------------------------------- MathVerse
def test_mathverse_vision_only_by_default_and_versions(reasoning7_root, tmp_path):
    loaded = load("mathverse", reasoning7_root, tmp_path)
    assert ids(loaded) == ["mathverse-testmini-5", "mathverse-testmini-10"]
    assert {p.meta["problem_version"] for p in loaded.problems} == {"Vision Only"}
    assert len(loaded.warnings) == 1 and "mathverse-testmini-15" in loaded.warnings[0]
    mc, ff = loaded.problems
    assert (mc.question_type, mc.answer, mc.choices) == ("multi_choice", "D", ())
    assert (ff.question_type, ff.answer_type, ff.answer) == ("free_form", "expression", "4.4 m")
    assert ids(load("mathverse@vision_dominant", reasoning7_root, tmp_path)) == [
        "mathverse-testmini-4", "mathverse-testmini-9"]
    everything = load("mathverse:testmini@all", reasoning7_root, tmp_path)
    assert len(everything.problems) == 7
    assert everything.problems[0].choices == ("40°", "60°", "120°", "140°")


# -------------------------------------------------------------------------------------------------- DynaMath
def test_dynamath_loads_the_ten_variants(reasoning7_root, tmp_path):
    loaded = load("dynamath", reasoning7_root, tmp_path)
    assert len(loaded.problems) == 29 and len(loaded.warnings) == 1
    assert "dynamath:sample_variant7" in loaded.warnings[0] and "dynamath-sample_variant7-3" in loaded.warnings[0]
    first = loaded.problems[0]
    assert first.id == "dynamath-sample_variant1-1" and first.split == "sample_variant1"
    assert (first.answer_type, first.answer, first.meta["qid"], first.meta["variant"]) == ("float", "0.5", "1", 1)
    mc = loaded.problems[1]
    assert (mc.question_type, mc.answer_type, mc.meta["answer_type"]) == ("multi_choice", "text", "multiple choice")
    one = load("dynamath:sample_variant3", reasoning7_root, tmp_path)
    assert ids(one) == [f"dynamath-sample_variant3-{i}" for i in (1, 2, 3)]


# ---------------------------------------------------------------------------------------------------- WeMath
def test_wemath(reasoning7_root, tmp_path):
    loaded = load("wemath", reasoning7_root, tmp_path)
    assert ids(loaded)[:3] == ["wemath-testmini-1-2steps_1", "wemath-testmini-1-2steps_2",
                               "wemath-testmini-1-2steps_multi"]
    assert len(loaded.problems) == 7
    multi = loaded.problems[6]
    assert multi.choices == ("36 cm²", "18 cm²", "9 cm²", "27 cm²", "No correct answer")
    assert (multi.meta["ID"], multi.meta["key"], multi.meta["question_number"]) == ("2", "3steps_multi", 7)
    assert len(loaded.warnings) == 1 and "malformed option" in loaded.warnings[0]


# ------------------------------------------------------------------------------------------------ LogicVista
def test_logicvista(reasoning7_root, tmp_path):
    loaded = load("logicvista", reasoning7_root, tmp_path)
    assert ids(loaded) == ["logicvista-test-0", "logicvista-test-1", "logicvista-test-2"]
    assert loaded.problems[1].answer == "A, C" and loaded.problems[1].meta["skill"] == "spatial"
    assert not loaded.warnings


# ------------------------------------------------------------------------------------------- groups, sources
def test_reasoning7_group_loads_all_seven(reasoning7_root, tmp_path):
    loaded = load("reasoning7", reasoning7_root, tmp_path, limit=1)
    assert [p.benchmark for p in loaded.problems] == list(REASONING7)
    with pytest.raises(BenchmarkError, match="takes no split"):
        expand_spec("reasoning7:test")
    with pytest.raises(BenchmarkError, match="takes no subset"):
        load("reasoning7", reasoning7_root, tmp_path, subset=["Math"])


def test_data_dir_from_environment(reasoning7_root, tmp_path, monkeypatch):
    monkeypatch.setenv("TTS_DATA_DIR", str(reasoning7_root))
    loaded = load_problems("logicvista", store=ImageStore(tmp_path))
    assert len(loaded.problems) == 3


def test_missing_local_copy_says_how_to_get_it(tmp_path):
    with pytest.raises(BenchmarkError, match=r"huggingface-cli download --repo-type dataset AI4Math/MathVista"):
        load("mathvista", tmp_path, tmp_path)


def test_without_data_dir_the_hub_id_goes_through_the_same_call(monkeypatch, tmp_path):
    import datasets

    calls = []

    def fake_load_dataset(path, name=None, split=None, **kwargs):
        calls.append((path, name, split))
        raise ConnectionError("offline")

    monkeypatch.delenv("TTS_DATA_DIR", raising=False)
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    with pytest.raises(BenchmarkError, match=r"cannot load AI4Math/MathVerse.*offline"):
        load_problems("mathverse", store=ImageStore(tmp_path))
    assert calls == [("AI4Math/MathVerse", "testmini", "testmini")]


def test_a_dataset_with_the_wrong_schema_is_refused(reasoning7_root, tmp_path):
    wrong = tmp_path / "hub" / "We-Math"
    wrong.mkdir(parents=True)
    (wrong / "We-Math").symlink_to(reasoning7_root / "AI4Math" / "MathVista")
    with pytest.raises(BenchmarkError, match=r"lacks column\(s\) \['ID'"):
        load("wemath", tmp_path / "hub", tmp_path)


def test_specs_and_tiling():
    assert parse_spec("mathvista:testmini") == ("mathvista", "testmini")
    assert parse_spec("MMMU:validation@Math") == ("mmmu", "validation")
    full = parse_full_spec("mmmu:validation@Math, Physics")
    assert (full.name, full.split, full.subsets) == ("mmmu", "validation", ("Math", "Physics"))
    assert expand_spec("mathverse@all") == ["mathverse@all"]
    assert [max_tiles(n) for n in REASONING7] == [12, 6, 6, 6, 6, 6, 6]
    assert max_tiles("mmmu", n_images=7) == 9 and max_tiles("mathvista", n_images=20) == 3
    assert upscale_first_image("mmmu") and not upscale_first_image("mathvista")


def test_unknown_names_and_splits(tmp_path):
    with pytest.raises(BenchmarkError, match="did you mean 'mathvista'"):
        load_problems("mathvist", store=ImageStore(tmp_path))
    with pytest.raises(BenchmarkError, match="no split 'val'"):
        load_problems("mmmu:val", store=ImageStore(tmp_path))
    with pytest.raises(BenchmarkError, match="no subsets"):
        load_problems("demo@x", store=ImageStore(tmp_path))


def test_demo_benchmark_still_loads(tmp_path):
    loaded = load_problems("demo", store=ImageStore(tmp_path))
    assert len(loaded.problems) == 6 and all(isinstance(p, Problem) for p in loaded.problems)


def test_problems_round_trip_through_json(reasoning7_root, tmp_path):
    for name in REASONING7:
        spec = "mmmu@Math" if name == "mmmu" else name
        for p in load(spec, reasoning7_root, tmp_path).problems:
            assert Problem.from_json(p.to_json()) == p
