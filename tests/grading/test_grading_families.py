"""Strict grading, family by family (issue 18): what a careful human grader accepts and refuses.

Rows are realistic InternVL chain-of-thought endings, positive and negative, spread over the benchmarks
where the family occurs. They were written apart from the human-verdict set (``data/human_verdicts.jsonl``),
with other problems and other phrasings, so together they check that a rule generalises beyond one string.
"""

from __future__ import annotations

import pytest
from grading_helpers import make_problem

from tts.grading import grade

MC, FF = "multi_choice", "free_form"
P = {
    # MathVista: unit field, precision, option texts
    "vista_years": make_problem("mathvista", "12", answer_type="integer", unit="years",
                                question="How many years passed between the two events?"),
    "vista_g": make_problem("mathvista", "250", answer_type="integer", unit="g", question="How heavy is the bag?"),
    "vista_minutes": make_problem("mathvista", "45", answer_type="integer",
                                  question="How many minutes does the movie last longer than the show?"),
    "vista_m": make_problem("mathvista", "3.5", answer_type="float", precision=1,
                            question="How tall is the tree in metres? (Unit: m)", unit="m"),
    "vista_count": make_problem("mathvista", "9", answer_type="integer", question="How many birds are flying?"),
    "vista_big": make_problem("mathvista", "4500000", answer_type="integer", question="What is the 2019 revenue?"),
    "vista_list": make_problem("mathvista", "[2012, 2015, 2018]", answer_type="list",
                               question="In which years was the rate above 5%?"),
    "vista_mc_km": make_problem("mathvista", "12 km", question_type=MC, answer_type="text",
                                choices=("8 km", "10 km", "12 km", "14 km"), question="How far is the school?"),
    "vista_mc_yes": make_problem("mathvista", "No", question_type=MC, answer_type="text", choices=("Yes", "No"),
                                 question="Is the square bigger than the circle?"),
    "vista_mc_deg": make_problem("mathvista", "45°", question_type=MC, answer_type="text",
                                 choices=("30°", "45°", "60°", "90°"), question="Find angle x."),
    "vista_f2": make_problem("mathvista", "2.78", answer_type="float", precision=2, question="Find the ratio."),
    # MathVision
    "vis_sqrt": make_problem("mathvision", "3\\sqrt{2}", question="How long is the diagonal of the square?"),
    "vis_sqrt_mc": make_problem("mathvision", "B", question_type=MC, answer_type="text",
                                choices=("$\\sqrt{3}$", "$2\\sqrt{3}$", "$3$", "$4$", "$\\sqrt{15}$")),
    "vis_letters": make_problem("mathvision", "E", question_type=MC, answer_type="text",
                                choices=("A", "B", "C", "D", "E")),
    "vis_int": make_problem("mathvision", "24", answer_type="integer", question="How many dots are hidden?"),
    "vis_roots": make_problem("mathvision", "1, 4", question="Which values of x satisfy the equation?"),
    "vis_point": make_problem("mathvision", "(3, -2)", question="Where do the lines meet?"),
    "vis_frac": make_problem("mathvision", "\\frac{2}{3}", question="Which part of the figure is grey?"),
    "vis_deg": make_problem("mathvision", "120^\\circ", question="How large is the angle at the top?"),
    "vis_cm": make_problem("mathvision", "6", answer_type="integer", question="How long is the side, in cm?"),
    # MMMU
    "mmmu_mc": make_problem("mmmu", "D", question_type=MC, answer_type="text",
                            choices=("Baroque", "Rococo", "Neoclassicism", "Romanticism")),
    "mmmu_mc_num": make_problem("mmmu", "B", question_type=MC, answer_type="text",
                                choices=("$200", "$250", "$300", "$350")),
    "mmmu_force": make_problem("mmmu", "1500", answer_type="integer", question="What is the weight of the load in N?"),
    "mmmu_rate": make_problem("mmmu", "0.45", answer_type="float", question="What is the probability?"),
    "mmmu_open_frac": make_problem("mmmu", ("5/7", "0.714"), answer_type="text", question="What fraction is left?"),
    "mmmu_city": make_problem("mmmu", "Florence", answer_type="text", question="Where was the fresco painted?"),
    "mmmu_text": make_problem("mmmu", "NaCl", answer_type="text", question="Which salt forms?"),
    "mmmu_kpa": make_problem("mmmu", "2", answer_type="integer", question="What is the pressure in kPa?"),
    # MathVerse
    "verse_mc": make_problem("mathverse", "C", question_type=MC, answer_type="text",
                             question="Find the length of CD.\nChoices:\nA:3\nB:4\nC:5\nD:6"),
    "verse_bearing": make_problem("mathverse", "S 35° E", answer_type="text", question="Find the bearing of C from B."),
    "verse_true": make_problem("mathverse", "220^\\circT", question="Find the true bearing of the boat."),
    "verse_len": make_problem("mathverse", "12.6 m", question="Find x, correct to one decimal place."),
    "verse_area": make_problem("mathverse", "50 cm^2", question="Find the area of the kite."),
    "verse_cm": make_problem("mathverse", "15 cm", question="Find the perimeter."),
    "verse_sqrt": make_problem("mathverse", "4\\sqrt{3}", question="Find the height of the triangle."),
    "verse_deg": make_problem("mathverse", "72°", question="Find the angle ABC."),
    # DynaMath
    "dyna_float": make_problem("dynamath", "1.414", answer_type="float", question="Find the distance."),
    "dyna_mc": make_problem("dynamath", "A", question_type=MC, answer_type="text",
                            question="Which curve is concave?\nChoices: (A) red (B) blue (C) green (D) black"),
    "dyna_text": make_problem("dynamath", "No", answer_type="text", question="Is the function odd?"),
    "dyna_int": make_problem("dynamath", "15", answer_type="integer", question="How many regions are there?"),
    "dyna_big": make_problem("dynamath", "7000000.0", answer_type="float", question="What is the total?"),
    # WeMath
    "wemath_mc": make_problem("wemath", "C", question_type=MC, answer_type="text",
                              choices=("2 m", "3 m", "4 m", "5 m")),
    "wemath_area": make_problem("wemath", "A", question_type=MC, answer_type="text",
                                choices=("9 m²", "12 m²", "18 m²", "No correct answer")),
    "wemath_count": make_problem("wemath", "D", question_type=MC, answer_type="text", choices=("3", "4", "5", "6")),
    # LogicVista
    "lv_single": make_problem("logicvista", "D", question_type=MC, answer_type="text",
                              question="Which figure completes the series?\nA. 1\nB. 2\nC. 3\nD. 4"),
    "lv_ab": make_problem("logicvista", "A, B", question_type=MC, answer_type="text",
                          question="Which statements must be true? Select all.\nA. p\nB. q\nC. r\nD. s"),
    "lv_cd": make_problem("logicvista", "C, D", question_type=MC, answer_type="text",
                          question="Which cards must be turned over?\nA. 3\nB. 8\nC. red\nD. brown"),
    "lv_bce": make_problem("logicvista", "B, C, E", question_type=MC, answer_type="text",
                           question="Which shapes are symmetric?\nA. a\nB. b\nC. c\nD. d\nE. e"),
}

R = "We examine the figure carefully and compute step by step.\n\n"

UNITS = [
    ("vista_years", R + "The events are 144 months apart.\n\nAnswer: \\boxed{144 months}", True),
    ("vista_years", R + "They are 12 months apart.\n\nAnswer: \\boxed{12 months}", False),
    ("vista_years", R + "The interval is 12 yrs.\n\nAnswer: \\boxed{12 yrs}", True),
    ("vista_g", R + "The bag weighs 0.25 kg.\n\nAnswer: \\boxed{0.25 kg}", True),
    ("vista_g", R + "The bag weighs 250 kg.\n\nAnswer: \\boxed{250 kg}", False),
    ("vista_g", R + "The bag weighs 250 grams.\n\nAnswer: \\boxed{250 grams}", True),
    ("vista_minutes", R + "The difference is 0.75 hours.\n\nAnswer: \\boxed{0.75 h}", True),
    ("vista_minutes", R + "The difference is 45 seconds.\n\nAnswer: \\boxed{45 s}", False),
    ("vista_m", R + "The tree is 350 cm tall.\n\nAnswer: \\boxed{350 cm}", True),
    ("vista_m", R + "The tree is 3.5 cm tall.\n\nAnswer: \\boxed{3.5 cm}", False),
    ("vista_mc_km", R + "The school is 12000 m away.\n\nAnswer: \\boxed{12000 m}", True),
    ("vista_mc_km", R + "The school is 12 m away.\n\nAnswer: \\boxed{12 m}", False),
    ("vis_cm", R + "The side measures 60 mm.\n\nAnswer: \\boxed{60 mm}", True),
    ("vis_cm", R + "The side measures 6 mm.\n\nAnswer: \\boxed{6 mm}", False),
    ("mmmu_force", R + "W = mg = 1.5 kN.\n\nAnswer: \\boxed{1.5 kN}", True),
    ("mmmu_force", R + "W = 1500 N.\n\nAnswer: \\boxed{1500 \\text{ N}}", True),
    ("mmmu_force", R + "W = 1500 kg.\n\nAnswer: \\boxed{1500 kg}", False),
    ("mmmu_kpa", R + "p = 2000 Pa.\n\nAnswer: \\boxed{2000 Pa}", True),
    ("mmmu_kpa", R + "p = 2 MPa.\n\nAnswer: \\boxed{2 MPa}", False),
    ("verse_area", R + "Area = 5000 mm².\n\nAnswer: \\boxed{5000 mm^2}", True),
    ("verse_area", R + "Area = 50 cm.\n\nAnswer: \\boxed{50 cm}", False),
    ("verse_cm", R + "Perimeter = 0.15 m.\n\nAnswer: \\boxed{0.15 m}", True),
    ("verse_cm", R + "Perimeter = 15 m.\n\nAnswer: \\boxed{15 m}", False),
    ("wemath_mc", R + "The side is 400 cm.\n\nAnswer: \\boxed{400 cm}", True),
    ("wemath_mc", R + "The side is 4 cm.\n\nAnswer: \\boxed{4 cm}", False),
    ("wemath_area", R + "The area is 9 m.\n\nAnswer: \\boxed{9 m}", False),
]

NUMBER_WORDS = [
    ("vista_count", R + "I count nine birds in flight.\n\nAnswer: \\boxed{nine}", True),
    ("vista_count", R + "Nine birds are flying.\n\nAnswer: Nine", True),
    ("vista_count", R + "There are eight birds.\n\nAnswer: \\boxed{eight}", False),
    ("vista_count", R + "There are nine birds.\n\nAnswer: \\boxed{nine birds}", True),
    ("vista_big", R + "Revenue reached 4.5 million.\n\nAnswer: \\boxed{4.5 million}", True),
    ("vista_big", R + "Revenue reached 4.5 million.\n\nAnswer: \\boxed{4.5}", False),
    ("vista_big", R + "Revenue was 4500 thousand.\n\nAnswer: \\boxed{4500 thousand}", True),
    ("vista_big", R + "Revenue was 4.5 billion.\n\nAnswer: \\boxed{4.5 billion}", False),
    ("vista_big", R + "Revenue was 4.5M.\n\nAnswer: \\boxed{4.5M}", True),
    ("vis_int", R + "Twenty-four dots are hidden.\n\nAnswer: \\boxed{twenty-four}", True),
    ("vis_int", R + "Twenty-four dots are hidden.\n\nAnswer: \\boxed{twenty four}", True),
    ("vis_int", R + "Forty-two dots are hidden.\n\nAnswer: \\boxed{forty-two}", False),
    ("vis_int", R + "Two dozen dots are hidden.\n\nAnswer: \\boxed{two dozen}", True),
    ("vis_frac", R + "Two thirds of the figure is grey.\n\nAnswer: \\boxed{two thirds}", True),
    ("vis_frac", R + "One third of the figure is grey.\n\nAnswer: \\boxed{one third}", False),
    ("mmmu_force", R + "W = fifteen hundred newtons.\n\nAnswer: \\boxed{one thousand five hundred}", True),
    ("dyna_int", R + "There are fifteen regions.\n\nAnswer: \\boxed{fifteen}", True),
    ("dyna_int", R + "There are fifty regions.\n\nAnswer: \\boxed{fifty}", False),
    ("dyna_big", R + "The total is 7 million.\n\nAnswer: \\boxed{7 million}", True),
    ("dyna_big", R + "The total is seven million.\n\nAnswer: \\boxed{seven million}", True),
    ("dyna_big", R + "The total is 70 million.\n\nAnswer: \\boxed{70 million}", False),
    ("wemath_count", R + "There are six squares.\n\nAnswer: \\boxed{six}", True),
    ("wemath_count", R + "There are five squares.\n\nAnswer: \\boxed{five}", False),
]

HEDGES = [
    ("vista_count", R + "Some birds overlap, so it is 9 or 10.\n\nAnswer: \\boxed{9 or 10}", False),
    ("vista_count", R + "There are between 8 and 10 birds.\n\nAnswer: \\boxed{8-10}", False),
    ("vista_count", R + "I see \\boxed{9} or maybe \\boxed{10} birds.", False),
    ("vista_minutes", R + "It lasts 40–50 minutes longer.\n\nAnswer: \\boxed{40–50 minutes}", False),
    ("vista_mc_km", R + "It is 10 km or 12 km.\n\nAnswer: \\boxed{B or C}", False),
    ("vis_letters", R + "Both D and E satisfy the rule.\n\nAnswer: \\boxed{D or E}", False),
    ("vis_letters", R + "E satisfies the rule.\n\nAnswer: \\boxed{E}", True),
    ("vis_roots", R + "The equation factors as (x-1)(x-4)=0, so x = 1 or x = 4.\n\nAnswer: \\boxed{x = 1 \\text{ or } x = 4}", True),
    ("vis_roots", R + "So x = 1 or x = 4.", True),
    ("vis_roots", R + "x = 1 or x = 5.\n\nAnswer: \\boxed{x=1 \\text{ or } x=5}", False),
    ("vis_roots", R + "Only x = 4 works.\n\nAnswer: \\boxed{4}", False),
    ("mmmu_city", R + "It is either Florence or Siena.\n\nAnswer: \\boxed{Florence or Siena}", False),
    ("mmmu_text", R + "The salt is NaCl or KCl.\n\nAnswer: \\boxed{NaCl or KCl}", False),
    ("mmmu_mc", R + "It looks Neoclassical or Romantic.\n\nAnswer: \\boxed{C or D}", False),
    ("verse_deg", R + "The angle is 72° or 108°.\n\nAnswer: \\boxed{72° or 108°}", False),
    ("dyna_float", R + "d = 1.414 or 1.732.\n\nAnswer: \\boxed{1.414 \\text{ or } 1.732}", False),
    ("dyna_text", R + "It may or may not be odd.\n\nAnswer: \\boxed{Yes or No}", False),
    ("wemath_mc", R + "The side is 3 m or 4 m.\n\nAnswer: \\boxed{B or C}", False),
    ("lv_single", R + "Figure 3 or figure 4 completes it.\n\nAnswer: \\boxed{C or D}", False),
]

MULTI_SELECT = [
    ("lv_ab", R + "Statements p and q must hold.\n\nAnswer: \\boxed{AB}", True),
    ("lv_ab", R + "Statements p and q must hold.\n\nAnswer: \\boxed{BA}", True),
    ("lv_ab", R + "Statements p and q must hold.\n\nAnswer: \\boxed{A, B}", True),
    ("lv_ab", R + "Statements p and q must hold.\n\nAnswer: \\boxed{(A), (B)}", True),
    ("lv_ab", R + "Statements p and q must hold, so the answers are A and B.", True),
    ("lv_ab", R + "Statements p and q must hold.\n\nAnswer: \\boxed{A \\& B}", True),
    ("lv_ab", R + "Only p must hold.\n\nAnswer: \\boxed{A}", False),
    ("lv_ab", R + "p, q and r must hold.\n\nAnswer: \\boxed{ABC}", False),
    ("lv_cd", R + "Turn the red card and the brown card.\n\nAnswer: \\boxed{CD}", True),
    ("lv_cd", R + "Turn the red card and the brown card.\n\nAnswer: \\boxed{(C) and (D)}", True),
    ("lv_cd", R + "Turn the red card and the brown card.\n\nAnswer: \\boxed{C; D}", True),
    ("lv_cd", R + "Turn the 8 card and the red card.\n\nAnswer: \\boxed{BC}", False),
    ("lv_cd", R + "The correct options are C and D.", True),
    ("lv_bce", R + "Shapes b, c and e are symmetric.\n\nAnswer: \\boxed{BCE}", True),
    ("lv_bce", R + "Shapes b, c and e are symmetric.\n\nAnswer: \\boxed{B, C, and E}", True),
    ("lv_bce", R + "Shapes b, c and e are symmetric.\n\nAnswer: \\boxed{E, C, B}", True),
    ("lv_bce", R + "Shapes b and c are symmetric.\n\nAnswer: \\boxed{BC}", False),
    ("lv_bce", R + "Shapes b, c, d and e are symmetric.\n\nAnswer: \\boxed{BCDE}", False),
    ("lv_single", R + "Figure 4 completes the series.\n\nAnswer: \\boxed{DD}", False),
]

PROSE_CUES = [
    ("vista_mc_yes", R + "The circle has the larger area, so the answer is no.", True),
    ("vista_mc_deg", R + "Options A and C do not fit the isosceles right triangle; x is 45°, which is B.", True),
    ("vista_mc_deg", R + "Since the triangle is isosceles, x = 45°. Therefore, B.", True),
    ("vista_mc_deg", R + "Comparing with option B, the angle is larger, so it must be 60°, which is C.", False),
    ("vis_letters", R + "Pattern A breaks at step 2 and B at step 3. Only E survives, so E.", True),
    ("vis_letters", R + "We first check E, which fails. Hence the answer is option D.", False),
    ("vis_sqrt_mc", R + "The height is 2√3, corresponding to choice B.", True),
    ("vis_sqrt_mc", R + "The height is 2√3. Thus, B.", True),
    ("mmmu_mc", R + "The clean lines and classical motifs point to Neoclassicism, i.e. C.", False),
    ("mmmu_mc", R + "Dramatic emotion and nature mark Romanticism. Therefore, the correct option is D.", True),
    ("mmmu_mc_num", R + "Option A ($200) is too low, and the total is $250, which corresponds to option B.", True),
    ("mmmu_mc_num", R + "The total is $250.\nSo the answer is option B", True),
    ("verse_mc", R + "By Pythagoras CD = 5. Choice A (3) is a leg, not the hypotenuse, so C.", True),
    ("verse_mc", R + "By Pythagoras CD = 4, so B.", False),
    ("dyna_mc", R + "The red curve bends downwards everywhere; thus A.", True),
    ("dyna_mc", R + "The blue curve (B) is convex and the red one is concave, so the answer is A.", True),
    ("dyna_text", R + "f(-x) is not -f(x), so no.", True),
    ("dyna_text", R + "f(-x) = -f(x), thus yes.", False),
    ("wemath_mc", R + "The side is 4 m, which is C.", True),
    ("lv_single", R + "Figure 1 repeats the first term; the series needs figure 4. Therefore, D.", True),
    ("lv_single", R + "The next figure must have four dots, so I choose D.", True),
    # an option named without being chosen
    ("lv_single", R + "Figures 1 to 3 fail, so we still have to check option D.", False),
    ("vis_letters", R + "The pattern breaks, so the answer is not E.", False),
    ("mmmu_mc", R + "The style is unclear, so I cannot decide whether it is D.", False),
]

PROSE_LISTS = [
    ("vista_list", R + "The rate is above 5% in 2012, 2015 and 2018.", True),
    ("vista_list", R + "The rate is above 5% in 2012, 2015, and 2018.", True),
    ("vista_list", R + "Only 2012 and 2015 are above the line.", False),
    ("vista_list", R + "The years are 2012, 2015 and 2018.\n\nAnswer: \\boxed{2012, 2015, 2018}", True),
    ("vista_list", R + "The years are 2012, 2015 and 2018.\n\nAnswer: \\boxed{2012, 2015 \\text{ and } 2018}", True),
    ("vista_list", R + "Answer: \\boxed{[2012, 2018]}", False),
    ("vis_point", R + "Solving both equations gives x = 3 and y = -2.", True),
    ("vis_point", R + "Solving both equations gives x = 3, y = −2.", True),
    ("vis_point", R + "Solving both equations gives x = -2 and y = 3.", False),
    ("vis_point", R + "So the lines meet at x = 3 and y = 2.", False),
    ("vis_point", R + "Answer: \\boxed{x = 3, y = -2}", True),
    ("vis_roots", R + "The solutions are x = 4 and x = 1.", True),
    ("vis_roots", R + "Answer: \\boxed{4 \\text{ and } 1}", True),
    ("vis_roots", R + "The solutions are x = 4 and x = 2.", False),
    ("vis_roots", R + "Answer: \\boxed{1, 4, 5}", False),
]

RADICALS = [
    ("vis_sqrt", R + "d = √18 = 3√2.\n\nAnswer: \\boxed{3√2}", True),
    ("vis_sqrt", R + "d = √18.\n\nAnswer: \\boxed{√18}", True),
    ("vis_sqrt", R + "d = \\sqrt{18}.\n\nAnswer: \\boxed{\\sqrt{18}}", True),
    ("vis_sqrt", R + "d = 3 \\sqrt 2.\n\nAnswer: \\boxed{3\\sqrt 2}", True),
    ("vis_sqrt", R + "d ≈ 4.24.\n\nAnswer: \\boxed{4.24}", True),
    ("vis_sqrt", R + "d = 2√3.\n\nAnswer: \\boxed{2√3}", False),
    ("vis_sqrt", R + "d = √12.\n\nAnswer: \\boxed{√12}", False),
    ("vis_sqrt", R + "d = 3√2 units.\n\nAnswer: \\boxed{3√2 units}", True),
    ("vis_sqrt_mc", R + "h = √12.\n\nAnswer: \\boxed{√12}", True),
    ("vis_sqrt_mc", R + "h = √15.\n\nAnswer: \\boxed{√15}", False),
    ("verse_sqrt", R + "h = √48 = 4√3.\n\nAnswer: \\boxed{4√3}", True),
    ("verse_sqrt", R + "h = √48.\n\nAnswer: \\boxed{√48}", True),
    ("verse_sqrt", R + "h = 4·√3 cm.\n\nAnswer: \\boxed{4·√3 cm}", True),
    ("verse_sqrt", R + "h = 3√4.\n\nAnswer: \\boxed{3√4}", False),
    ("vis_frac", R + "The grey part is ⅔.\n\nAnswer: \\boxed{⅔}", True),
    ("vis_frac", R + "The grey part is ⅓.\n\nAnswer: \\boxed{⅓}", False),
    ("dyna_float", R + "d = √2 ≈ 1.414.\n\nAnswer: \\boxed{√2}", True),
    ("dyna_float", R + "d = √3.\n\nAnswer: \\boxed{√3}", False),
]

BEARINGS = [
    ("verse_bearing", R + "C lies 35° east of south.\n\nAnswer: \\boxed{S 35° E}", True),
    ("verse_bearing", R + "Answer: \\boxed{S35^{\\circ}E}", True),
    ("verse_bearing", R + "Answer: \\boxed{south 35 degrees east}", True),
    ("verse_bearing", R + "Answer: \\boxed{145°T}", True),
    ("verse_bearing", R + "Answer: \\boxed{S 35° W}", False),
    ("verse_bearing", R + "Answer: \\boxed{N 35° E}", False),
    ("verse_bearing", R + "Answer: \\boxed{S 55° E}", False),
    ("verse_bearing", R + "Answer: \\boxed{E 55° S}", True),
    ("verse_bearing", R + "Answer: \\boxed{N 145° E}", False),
    ("verse_true", R + "Answer: \\boxed{220°}", True),
    ("verse_true", R + "Answer: \\boxed{220^\\circ T}", True),
    ("verse_true", R + "Answer: \\boxed{S 40° W}", True),
    ("verse_true", R + "Answer: \\boxed{S 40° E}", False),
    ("verse_true", R + "Answer: \\boxed{N 40° W}", False),
    ("verse_true", R + "Answer: \\boxed{040°T}", False),
    ("verse_true", R + "Answer: \\boxed{140°T}", False),
]

PRECISION = [
    ("vista_f2", R + "ratio = 2.7778.\n\nAnswer: \\boxed{2.7778}", True),
    ("vista_f2", R + "ratio = 2.775.\n\nAnswer: \\boxed{2.775}", True),
    ("vista_f2", R + "ratio = 2.8.\n\nAnswer: \\boxed{2.8}", False),
    ("vista_m", R + "h = 3.46 m.\n\nAnswer: \\boxed{3.46}", True),
    ("vista_m", R + "h = 3.44.\n\nAnswer: \\boxed{3.44}", False),
    ("mmmu_rate", R + "p = 0.4512.\n\nAnswer: \\boxed{0.4512}", True),
    ("mmmu_rate", R + "p = 0.446.\n\nAnswer: \\boxed{0.446}", True),
    ("mmmu_rate", R + "p = 0.44.\n\nAnswer: \\boxed{0.44}", False),
    ("mmmu_rate", R + "p = 45%.\n\nAnswer: \\boxed{45\\%}", True),
    ("mmmu_open_frac", R + "5/7 ≈ 0.7143.\n\nAnswer: \\boxed{0.7143}", True),
    ("mmmu_open_frac", R + "≈ 0.72.\n\nAnswer: \\boxed{0.72}", False),
    ("verse_len", R + "x ≈ 12.63 m.\n\nAnswer: \\boxed{12.63 m}", True),
    ("verse_len", R + "x ≈ 12.7 m.\n\nAnswer: \\boxed{12.7}", False),
    ("dyna_float", R + "d ≈ 1.4142.\n\nAnswer: \\boxed{1.4142}", True),
    ("dyna_float", R + "d ≈ 1.41.\n\nAnswer: \\boxed{1.41}", False),
    ("dyna_float", R + "d ≈ 1.415.\n\nAnswer: \\boxed{1.415}", True),
]

QUALIFIERS = [
    ("mmmu_city", R + "Answer: \\boxed{Florence, Italy}", True),
    ("mmmu_city", R + "Answer: \\boxed{Florence (Tuscany)}", True),
    ("mmmu_city", R + "Answer: \\boxed{in Florence}", True),
    ("mmmu_city", R + "Answer: \\boxed{Florence and Rome}", False),
    ("mmmu_city", R + "Answer: \\boxed{Rome, Italy}", False),
    ("mmmu_city", R + "Answer: \\boxed{not Florence}", False),
    ("mmmu_text", R + "Answer: \\boxed{NaCl (sodium chloride)}", True),
    ("mmmu_text", R + "Answer: \\boxed{NaCl and water}", False),
    ("dyna_text", R + "Answer: \\boxed{No, it is not odd}", True),
    ("dyna_text", R + "Answer: \\boxed{No, it is even}", True),
    ("dyna_text", R + "Answer: \\boxed{Yes, it is odd}", False),
    ("vista_mc_yes", R + "Answer: \\boxed{No, the circle is bigger}", True),
    ("vista_mc_yes", R + "Answer: \\boxed{Yes, the square is bigger}", False),
    ("vista_years", R + "Answer: \\boxed{about 12}", True),
    ("vista_years", R + "Answer: \\boxed{12 years and 3 months}", False),
    ("mmmu_force", R + "Answer: \\boxed{roughly 1500}", True),
]

FAMILIES = {
    "units": UNITS, "number_words": NUMBER_WORDS, "hedges": HEDGES, "multi_select": MULTI_SELECT,
    "prose_cues": PROSE_CUES, "prose_lists": PROSE_LISTS, "radicals": RADICALS, "bearings": BEARINGS,
    "precision": PRECISION, "qualifiers": QUALIFIERS,
}
CASES = [pytest.param(P[key], response, verdict, id=f"{family}-{i}")
         for family, rows in FAMILIES.items() for i, (key, response, verdict) in enumerate(rows)]


@pytest.mark.parametrize("problem,response,verdict", CASES)
def test_family_case(problem, response: str, verdict: bool) -> None:
    g = grade(response, problem)
    assert g.correct is verdict, g


def test_each_family_has_positive_and_negative_rows_over_several_benchmarks() -> None:
    for family, rows in FAMILIES.items():
        verdicts = [v for _, _, v in rows]
        benchmarks = {P[key].benchmark for key, _, _ in rows}
        assert len(rows) >= 15 and any(verdicts) and not all(verdicts), family
        # bearings occur in MathVerse golds only, multi-select in LogicVista only
        assert len(benchmarks) >= 2 or family in ("bearings", "multi_select"), (family, benchmarks)
