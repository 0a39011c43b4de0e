"""The policy prompts, pinned to the character for one example per benchmark.

The expected strings were derived by reading open-compass/VLMEvalKit at 3b6bca0f (2025-04-29, InternVL3's
release): ``vlmeval/vlm/internvl/internvl_chat.py`` (``InternVLChat.build_prompt`` with ``USE_COT=1``,
``generate_v2`` → ``reorganize_prompt``) and ``vlmeval/vlm/internvl/utils.py`` (``build_multi_choice_prompt``,
``build_mcq_cot_prompt``, ``build_qa_cot_prompt``), with each dataset's type from ``vlmeval/dataset``
(``MMMUDataset`` and ``WeMath`` are ``MCQ``; MathVista, MathVision, MathVerse, DynaMath, LogicVista are VQA
datasets on the CoT list). The MathVista hints are the official ``evaluation/build_query.py`` ones.
"""

from __future__ import annotations

import pytest

from tts.benchmarks import REASONING7, load_problems
from tts.images import ImageStore
from tts.prompts import (
    IMAGE_PLACEHOLDER,
    PROMPT_SETS,
    build_prompt,
    place_images,
    prompt_text,
    with_image_placeholders,
)
from tts.records import Problem

pytest_plugins = ["tests.fixtures.pytest_fixtures"]  # hf_cache, reasoning7_root

MCQ_COT = (
    "Answer the preceding multiple choice question. The last line of your response should follow "
    "this format: 'Answer: \\boxed{$LETTER}' (without quotes), where LETTER is one of the options. "
    "If you are uncertain or the problem is too complex, make a reasoned guess based on the "
    "information provided. Avoid repeating steps indefinitely—provide your best guess even if "
    "unsure. Think step by step logically, considering all relevant information before answering."
)
QA_COT = (
    "Answer the preceding question. The last line of your response should follow this format: "
    "'Answer: \\boxed{$FINAL_ANSWER}' (without quotes), where 'FINAL_ANSWER' is your conclusion "
    "based on the reasoning provided. If you are uncertain or the problem is too complex, make "
    "a reasoned guess based on the information provided. Avoid repeating steps indefinitely—"
    "provide your best guess even if unsure. Think step by step logically, considering all "
    "relevant information before answering."
)
HINT_MC = "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end."
HINT_INT = ("Hint: Please answer the question requiring an integer answer and provide the final value, "
            "e.g., 1, 2, 3, at the end.")

EXPECTED = {
    "mmmu-validation_Math_2": (
        "Image-1: <image>\nImage-2: <image>\n"
        "Which graph is the derivative of the other? <image 1> <image 2>\nA. <image 1>\nB. <image 2>\n" + MCQ_COT),
    # an open question in an MCQ dataset: build_multi_choice_prompt adds "Answer the question directly.",
    # build_mcq_cot_prompt then appends the multiple-choice instruction (at 3b6bca0f and at e8e78f05 alike)
    "mmmu-validation_Math_7": ("<image>\n<image 1> How many edges does the solid have?\nAnswer the question directly.\n"
                               + MCQ_COT),
    "mathvista-testmini-1": (
        "<image>\n" + HINT_MC + "\nQuestion: Is the number of red cubes greater than the number of blue spheres?"
        "\nChoices:\n(A) Yes\n(B) No\n" + QA_COT),
    "mathvision-test-1": (
        "<image>\n" + HINT_MC + "\nQuestion: <image1>\nHow many dots are on the hidden faces of the dice?"
        "\nChoices:\n(A) 7\n(B) 8\n(C) 9\n(D) 10\n(E) 11\n" + QA_COT),
    "mathvision-test-3": (
        "<image>\nHint: Please answer the question and provide the final answer at the end.\n"
        "Question: <image1>\nWhat is the area of the shaded triangle?\n" + QA_COT),
    # 3b6bca0f sends MathVerse's question as it is; PR #1203 (2025-09-01) later rewrote the phrase
    "mathverse-testmini-5": (
        "<image>\nAccording to the question shown in the image, please directly answer the question and provide "
        "the correct option letter, e.g., A, B, C, D.\n" + QA_COT),
    "dynamath-sample_variant1-2": (
        "<image>\nIs the plotted function even or odd?\nchoice: (A) even (B) odd (C) neither\n" + QA_COT),
    "wemath-testmini-2-3steps_multi": (
        "<image>\nWhat is the area of the large square?\nA. 36 cm²\nB. 18 cm²\nC. 9 cm²\nD. 27 cm²\n"
        "E. No correct answer\n" + MCQ_COT),
    "logicvista-test-0": "<image>\nWhich of the boxes comes next in the sequence? Select from A-E\n" + QA_COT,
}


@pytest.fixture(scope="module")
def problems(reasoning7_root, tmp_path_factory) -> dict[str, Problem]:
    store = ImageStore(tmp_path_factory.mktemp("run"))
    out = {}
    for name in REASONING7:
        spec = {"mmmu": "mmmu@Math", "mathverse": "mathverse@all"}.get(name, name)
        for p in load_problems(spec, store=store, data_dir=reasoning7_root).problems:
            out[p.id] = p
    return out


def test_cot_instructions_match_vlmevalkit():
    assert prompt_text("internvl_cot_mcq") == MCQ_COT
    assert prompt_text("internvl_cot_qa") == QA_COT


@pytest.mark.parametrize("problem_id", sorted(EXPECTED))
def test_internvl_cot_prompt_is_pinned(problems, problem_id):
    assert build_prompt(problems[problem_id]) == EXPECTED[problem_id]


def test_mathverse_vision_only_keeps_the_release_text(problems):
    vision_only = build_prompt(problems["mathverse-testmini-10"])
    assert vision_only == ("<image>\nAccording to the question shown in the image, please directly answer the question "
                           "and provide the final value, e.g., 1, 2.5, 300.\n" + QA_COT)


def test_the_2509_set_has_pr_1203s_mathverse_rewrite_and_nothing_else(problems):
    text_dominant = build_prompt(problems["mathverse-testmini-1"], "internvl_cot_2509")
    assert text_dominant.startswith("<image>\nPlease directly answer the question and provide the correct option")
    vision_only = build_prompt(problems["mathverse-testmini-10"], "internvl_cot_2509")
    assert vision_only == ("<image>\nAccording to the question shown in the image, please provide the final value, "
                           "e.g., 1, 2.5, 300.\n" + QA_COT)
    for pid, p in problems.items():
        if p.benchmark != "mathverse":
            assert build_prompt(p, "internvl_cot_2509") == build_prompt(p), pid


def _mcq(question, choices=(), bench="mmmu"):
    return Problem(id="x", benchmark=bench, split="validation", question=question, images=("a.png",),
                   choices=tuple(choices), question_type="multi_choice" if choices else "free_form",
                   answer_type="text")


@pytest.mark.parametrize("problem,expected", [
    # cn_string(prompt) → the Chinese phrase is appended and build_mcq_cot_prompt leaves it in
    (_mcq("图中三角形的面积是多少？", ("6", "12")),
     "<image>\n图中三角形的面积是多少？\nA. 6\nB. 12\n请直接回答选项字母。\n" + MCQ_COT),
    (_mcq("Which city is shown?", ("北京", "Shanghai")),  # Chinese only in an option counts too
     "<image>\nWhich city is shown?\nA. 北京\nB. Shanghai\n请直接回答选项字母。\n" + MCQ_COT),
    (_mcq("图中有几条边？"), "<image>\n图中有几条边？\n请直接回答问题。\n" + MCQ_COT),
    # the English phrase is removed wherever it occurs, then the whole text is stripped
    (_mcq("  Answer with the option's letter from the given choices directly. Which?", ("a", "b"), bench="wemath"),
     "<image>\nWhich?\nA. a\nB. b\n" + MCQ_COT),
    (_mcq("Which?", ("a", "b")), "<image>\nWhich?\nA. a\nB. b\n" + MCQ_COT),
])
def test_vlmevalkit_mcq_path(problem, expected):
    assert build_prompt(problem) == expected


def test_the_open_question_departure_is_a_named_set_off_by_default(problems):
    p = problems["mmmu-validation_Math_7"]
    assert build_prompt(p, "internvl_cot_open_qa") == "<image>\n<image 1> How many edges does the solid have?\n" + QA_COT
    assert build_prompt(problems["mmmu-validation_Math_2"], "internvl_cot_open_qa") == EXPECTED["mmmu-validation_Math_2"]
    assert PROMPT_SETS.get("internvl_cot_open_qa").departures and not PROMPT_SETS.get("internvl_cot").departures
    assert "3b6bca0f" in PROMPT_SETS.get("internvl_cot").reference


def test_mathvista_official_set_reproduces_the_hub_query(problems):
    for p in (q for q in problems.values() if q.benchmark == "mathvista"):
        assert build_prompt(p, "mathvista_official") == f"{IMAGE_PLACEHOLDER}\n{p.meta['query']}"


@pytest.mark.parametrize("answer_type,precision,unit,expected_hint", [
    ("integer", None, "years", HINT_INT),
    ("float", 1, None, "Hint: Please answer the question requiring a floating-point number with one decimal place "
                       "and provide the final value, e.g., 1.2, 1.3, 1.4, at the end."),
    ("float", 2, None, "Hint: Please answer the question requiring a floating-point number with two decimal places "
                       "and provide the final value, e.g., 1.23, 1.34, 1.45, at the end."),
    ("list", None, None, "Hint: Please answer the question requiring a Python list as an answer and provide the "
                         "final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end."),
])
def test_mathvista_official_hints(answer_type, precision, unit, expected_hint):
    p = Problem(id="x", benchmark="mathvista", split="testmini", question="How old is he?", images=("i.png",),
                answer_type=answer_type, precision=precision, unit=unit)
    suffix = f" (Unit: {unit})" if unit else ""
    assert build_prompt(p, "mathvista_official") == f"<image>\n{expected_hint}\nQuestion: How old is he?{suffix}"


def test_every_prompt_has_one_placeholder_per_image(problems):
    for prompt_set in PROMPT_SETS:
        for p in problems.values():
            assert build_prompt(p, prompt_set).count(IMAGE_PLACEHOLDER) == len(p.images), (prompt_set, p.id)


def test_image_placement():
    assert place_images(0, "q") == "q"
    assert place_images(1, "q") == "<image>\nq"
    assert place_images(3, "q") == "Image-1: <image>\nImage-2: <image>\nImage-3: <image>\nq"
    p = Problem(id="x", benchmark="demo", split="test", question="q", images=("a", "b"))
    assert with_image_placeholders(p, "q") == "<image>\n<image>\nq"


def test_demo_prompts_keep_their_shape():
    mc = Problem(id="d", benchmark="demo", split="test", question="Which shape?", images=("a",),
                 choices=("circle", "square"), question_type="multi_choice", answer_type="text")
    assert build_prompt(mc) == "<image>\nWhich shape?\nA. circle\nB. square\n" + MCQ_COT


def test_prompt_sets_are_fingerprinted_by_their_files_and_routing():
    prints = {name: PROMPT_SETS.get(name).fingerprint() for name in PROMPT_SETS}
    assert len(set(prints.values())) == len(prints)  # internvl_cot and internvl_cot_open_qa share their files
    assert "internvl_cot_mathverse_rewrite" in PROMPT_SETS.get("internvl_cot_2509").files
    assert "internvl_cot_mathverse_rewrite" not in PROMPT_SETS.get("internvl_cot").files
