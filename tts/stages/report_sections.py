"""Report sections beyond accuracy: the seeds' "Overall", published numbers beside ours, and cost.

``overall[rule]``
    Mean of the seven benchmarks' official headline scores for one selection rule, as the InternVL3
    model card's "Overall" column; present only when all seven benchmarks are in the run.
``comparison[expected_rule][benchmark] = {"ours", "expected", "delta"}`` (and ``"warning"``)
    When the run was made from a recipe with ``expected`` numbers (``best_of_n/mean``, ``greedy`` …), each
    is matched with our rule of that strategy/aggregation at the run's N. A number of ours that rests on
    partial data keeps its metric's warning (the overall: the warnings of the benchmarks it averages).
``cost``
    Policy prompt/completion tokens, critic tokens per critic, and wall seconds per stage (accumulated
    across resumes; summed over shards for a merged run).
``fidelity``
    The evaluation settings the run used, set against the reference evaluation (VLMEvalKit@3b6bca0f's
    InternVL Best-of-N with VisualPRM on a bf16 GPU, which produced the InternVL3 model card's numbers):
    ``prompt_set`` (name, the upstream code it reproduces, its documented departures), ``response_text``,
    ``sampling``, ``policy_system_message``, ``critics[label]`` (model, step cap, score rounding, system message
    and where it came from, dtype, backend), ``deviations`` (what makes the run differ from the reference:
    empty for a faithful reproduction), ``notes`` (settings the reference leaves open or we could not verify)
    and ``faithful``. :func:`fidelity_lines` renders it for ``tts report``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tts.records import Rollout, StepScores
from tts.rundir import RunDir


def overall_section(metrics: dict[str, dict[str, Any]]) -> dict[str, float]:
    from tts.metrics import OVERALL_BENCHMARKS, overall

    rules: dict[str, dict[str, float]] = defaultdict(dict)
    for bench, by_rule in metrics.items():
        for rule, metric in by_rule.items():
            if isinstance(metric, dict) and metric.get("score") is not None:
                rules[rule][bench] = float(metric["score"])
    out = {}
    for rule, scores in rules.items():
        value = overall({b: scores.get(b) for b in OVERALL_BENCHMARKS})
        if value is not None:
            out[rule] = value
    return out


def _our_rule(expected_rule: str, rules: list[str], n: int | None) -> str | None:
    """``best_of_n/mean`` → ``best_of_n/mean@8 [visualprm]``; ``greedy`` → ``greedy@8``."""
    matches = [r for r in rules if r.split("@")[0] == expected_rule and (n is None or r.split("@")[1].split()[0] == str(n))]
    return sorted(matches)[0] if matches else None


def comparison_section(run: RunDir, metrics: dict[str, dict[str, Any]], overall: dict[str, float]) -> dict[str, Any]:
    expected = (run.manifest.get("recipe") or {}).get("expected") or {}
    if not expected:
        return {}
    n = (run.config("sampling") or {}).get("n")
    rules = sorted({rule for by_rule in metrics.values() for rule in by_rule})
    out: dict[str, Any] = {}
    for expected_rule, numbers in expected.items():
        ours_rule = _our_rule(expected_rule, rules, n)
        rows = {}
        for bench, value in numbers.items():
            warning = None
            if bench == "overall":
                ours = overall.get(ours_rule) if ours_rule else None
                partial = [f"{b}: {m['warning']}" for b, by_rule in sorted(metrics.items())
                           if isinstance(m := by_rule.get(ours_rule or ""), dict) and m.get("warning")]
                warning = "; ".join(partial) or None
            else:
                metric = metrics.get(bench, {}).get(ours_rule) if ours_rule else None
                ours = metric.get("score") if isinstance(metric, dict) else None
                warning = metric.get("warning") if isinstance(metric, dict) else None
            rows[bench] = {"ours": ours, "expected": value,
                           "delta": None if ours is None else round(ours - float(value), 2)}
            if warning and ours is not None:
                rows[bench]["warning"] = warning
        out[expected_rule] = {"rule": ours_rule, "benchmarks": rows}
    return out


def cost_section(run: RunDir) -> dict[str, Any]:
    prompt = completion = 0
    rollouts = 0
    for r in run.read(Rollout):
        prompt += r.prompt_tokens
        completion += r.completion_tokens
        rollouts += 1
    critics = {}
    for label in run.critics():
        records = run.read(StepScores, label)
        critics[label] = {"rollouts": len(records), "tokens": sum(s.tokens or 0 for s in records),
                          "unscored": sum(not s.scored for s in records)}
    seconds = {stage: entry["seconds"] for stage, entry in run.manifest.get("stages", {}).items() if "seconds" in entry}
    return {"policy": {"rollouts": rollouts, "prompt_tokens": prompt, "completion_tokens": completion},
            "critics": critics, "seconds": seconds}


REFERENCE_EVALUATION = "VLMEvalKit@3b6bca0f (2025-04-29): InternVLChat Best-of-N with VisualPRM, bf16 GPU"
REFERENCE_PROMPT_SET = "internvl_cot"
REFERENCE_SAMPLING = {"temperature": 0.7, "top_p": 0.95, "top_k": 50, "first_greedy": True, "max_new_tokens": 4096}
"""VLMEvalKit@3b6bca0f ``generate_v2``: temperature 0.7, top-p 0.95, sample 0 greedy, 4096 new tokens; ``model.chat``
passes no top-k, so transformers 4.x's ``GenerationConfig`` default (50) applies (InternVL3's
generation_config.json sets none)."""
_PRM_CRITICS = ("visualprm", "visualprm-orm")


def _system_message_origin(text: str | None) -> str:
    from tts.prompts import prompt_text

    if text is None:
        return "unknown"
    if text == "":
        return "empty system turn"
    for name in ("internvl_system", "visualprm_system"):
        if text == prompt_text(name):
            return f"prompts/{name}.txt"
    return "custom text"


def _critic_fidelity(label: str, info: dict[str, Any], deviations: list[str], notes: list[str]) -> dict[str, Any]:
    from tts.prompts import text_hash

    kind = info.get("critic", label)
    system = info.get("system_message")
    entry = {
        "critic": kind, "model": info.get("model"), "max_steps": info.get("max_steps"),
        "score_rounding": info.get("score_rounding", "none"), "dtype": info.get("dtype"), "backend": info.get("backend"),
        "system_message": {"source": info.get("system_message_source", "unknown"),
                           "text": _system_message_origin(system),
                           "sha": text_hash(system) if isinstance(system, str) else None},
    }
    if kind not in _PRM_CRITICS:
        notes.append(f"critic {label} is {kind}, not the reference's VisualPRM")
        return entry
    if entry["score_rounding"] != "bf16":
        deviations.append(f"critic {label}: step scores in float32 (score_rounding {entry['score_rounding']}); the "
                          "reference's bf16 P(+) ties responses and its stable sort picks the earliest")
    elif entry["dtype"] not in (None, "bfloat16"):
        notes.append(f"critic {label} ran in {entry['dtype']}: bf16 rounding applies to its label logits and P(+), "
                     "the rest of the forward pass is more exact than the reference's")
    cap = entry["max_steps"]
    notes.append(f"critic {label}: step cap {cap if cap is not None else 'none'} (the paper merges to 12 steps; "
                 "the reference library's default could not be verified and may be no cap)")
    source = entry["system_message"]["source"]
    if source.startswith("prompts/"):
        notes.append(f"critic {label}: the checkpoint config has no system message; used {source} (the reference's "
                     "model code would fall back to the template's default, prompts/internvl_system.txt)")
    elif source == "argument":
        deviations.append(f"critic {label}: system message given explicitly ({entry['system_message']['text']})")
    return entry


def fidelity_section(run: RunDir) -> dict[str, Any]:
    """The evaluation-fidelity settings of the run against the reference evaluation (see the module docstring)."""
    from tts.prompts import PROMPT_SETS

    deviations: list[str] = []
    notes: list[str] = []
    prompt_cfg = run.config("prompt") or {}
    name = prompt_cfg.get("set")
    prompt: dict[str, Any] = {"name": name}
    if isinstance(name, str) and name in PROMPT_SETS:
        prompt.update(PROMPT_SETS.get(name).describe())
    if name is None:
        notes.append("no rollouts sampled yet: prompt set unknown")
    elif name != REFERENCE_PROMPT_SET:
        deviations.append(f"prompt set {name} ({prompt.get('reference') or 'unknown'}); the reference's is "
                          f"{REFERENCE_PROMPT_SET} (VLMEvalKit@3b6bca0f)")
    deviations += [f"prompt set {name}: {d}" for d in prompt.get("departures", ())]
    response_text = prompt_cfg.get("response_text")
    if name is not None and response_text != "model.chat":
        deviations.append("rollouts hold the raw decode, not the stripped text model.chat returns (and VLMEvalKit "
                          "grades, VisualPRM scores)")
    sampling_cfg = run.config("sampling") or {}
    sampling = {k: sampling_cfg.get(k) for k in REFERENCE_SAMPLING}
    for key, want in REFERENCE_SAMPLING.items():
        if sampling_cfg and sampling[key] != want:
            deviations.append(f"sampling {key} {sampling[key]} (reference {want})")
    models = run.manifest.get("models") or {}
    policy = models.get("policy") or {}
    policy_system = _system_message_origin(policy.get("system_message")) if policy else "unknown"
    if policy and policy_system not in ("prompts/internvl_system.txt",):
        notes.append(f"policy system message: {policy_system} (InternVL's default is prompts/internvl_system.txt; a "
                     "checkpoint config may set its own)")
    critics = {role.split(":", 1)[1]: _critic_fidelity(role.split(":", 1)[1], dict(info), deviations, notes)
               for role, info in sorted(models.items()) if role.startswith("critic:")}
    return {"reference": REFERENCE_EVALUATION, "prompt_set": prompt, "response_text": response_text,
            "sampling": sampling, "policy_system_message": policy_system, "critics": critics,
            "deviations": deviations, "notes": notes, "faithful": not deviations and name is not None}


def fidelity_lines(fidelity: dict[str, Any]) -> list[str]:
    """Plain-text lines of the fidelity section, for ``tts report`` (printed under the published comparison)."""
    if not fidelity:
        return []
    verdict = "faithful reproduction" if fidelity.get("faithful") else f"{len(fidelity.get('deviations', []))} deviation(s)"
    out = [f"Evaluation fidelity vs {fidelity['reference']}: {verdict}"]
    prompt = fidelity.get("prompt_set") or {}
    out.append(f"  prompt set: {prompt.get('name')} — {prompt.get('reference') or 'unknown reference'}")
    out.append(f"  responses: {fidelity.get('response_text') or 'raw decode'}"
               + (" (cut at <|im_end|>, stripped)" if fidelity.get("response_text") == "model.chat" else ""))
    smp = fidelity.get("sampling") or {}
    if any(v is not None for v in smp.values()):
        out.append(f"  sampling: temperature {smp.get('temperature')}, top-p {smp.get('top_p')}, top-k {smp.get('top_k')}, "
                   f"sample 0 greedy {smp.get('first_greedy')}, {smp.get('max_new_tokens')} new tokens")
    out.append(f"  policy system message: {fidelity.get('policy_system_message')}")
    for label, c in (fidelity.get("critics") or {}).items():
        cap = c.get("max_steps")
        out.append(f"  critic {label} ({c.get('model')}): step cap {cap if cap is not None else 'none'}, score "
                   f"rounding {c.get('score_rounding')}, system message {c['system_message']['text']} "
                   f"({c['system_message']['source']}), {c.get('dtype')}, {c.get('backend')} backend")
    out += [f"  deviation: {d}" for d in fidelity.get("deviations", [])]
    out += [f"  note: {n}" for n in fidelity.get("notes", [])]
    return out
