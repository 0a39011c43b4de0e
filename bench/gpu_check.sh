#!/usr/bin/env bash
# GPU check of the paths CI cannot run: the vLLM policy engine and the vLLM VisualPRM critic backend on image
# problems, against the transformers path in bf16. Nothing is downloaded: tiny checkpoints and benchmark copies
# are built locally. About 2-4 minutes on one GPU (two vLLM engines start, eager mode).
#
#   bench/gpu_check.sh [--out DIR] [--cpu-dry-run]
#
# GPU (default):
#   A = tts bestofn, vLLM engine (bf16) + vLLM critic backend (bf16, score_rounding=bf16)
#   B = tts bestofn, transformers engine + transformers critic, both bf16
#   then the transformers bf16 critic scores A's rollouts too (label hf-bf16), and bench/gpu_check.py compares:
#   same prompts (prompt tokens incl. image tokens), identical greedy samples, step scores within bf16 tolerance.
# --cpu-dry-run: the same script on CPU, everything but vLLM: A = transformers bf16 one problem per batch, B =
#   transformers bf16 four per batch (another numerical path, as vLLM is), and A's rollouts scored again by the
#   fp32 critic with score_rounding=bf16 (label fp32): the comparison code on real runs.
#
# The interpreter is $TTS_PYTHON (default: python3), with ttscale and, for the GPU run, vllm installed, e.g.
#   TTS_PYTHON=.venv/bin/python bench/gpu_check.sh --out /tmp/gpu-check
# Exit status: 0 when the verdict is PASS, 1 on FAIL, 2 when the check could not run.
set -euo pipefail

OUT=""
MODE=gpu
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --cpu-dry-run) MODE=cpu; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
PY="${TTS_PYTHON:-python3}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/tts-gpu-check.XXXXXX")}"
mkdir -p "$OUT"
CK="$OUT/ckpt" DATA="$OUT/data"
start=$SECONDS
step() { echo "== [$((SECONDS - start))s] $*"; }
run() { echo "+ $*"; "$@"; }

if [ "$MODE" = gpu ]; then
  "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" \
    || { echo "gpu_check: no CUDA device visible to $PY; use --cpu-dry-run on a CPU machine" >&2; exit 2; }
  "$PY" -c "import vllm" 2>/dev/null \
    || { echo "gpu_check: vllm is not installed for $PY (pip install -e '.[vllm]')" >&2; exit 2; }
  DEVICE=cuda LABEL=hf-bf16 DTYPE_C=bf16 TITLE="vLLM vs transformers, bf16, GPU"
else
  DEVICE=cpu LABEL=fp32 DTYPE_C=fp32 TITLE="CPU dry run: transformers bf16, batch 1 vs 4; critic bf16 vs fp32"
fi

step "tiny checkpoints and benchmark copies (built locally) in $OUT"
[ -f "$CK/policy/config.json" ] || run "$PY" bench/gpu_check.py build "$CK"
[ -d "$DATA/MMMU" ] || run "$PY" bench/gpu_check.py data "$DATA"

COMMON=(--policy "$CK/policy" --critic "$CK/critic" --n 4 --first-greedy --max-new-tokens 48 --top-k 50 --seed 0
        --benchmark demo --benchmark "mmmu:validation@Math" --limit 4 --data-dir "$DATA"
        --strategy best_of_n --strategy greedy --critic-option score_rounding=bf16)

if [ "$MODE" = gpu ]; then
  VLLM_ENGINE=(--engine vllm --engine-option dtype=bf16 --engine-option enforce_eager=true
               --engine-option gpu_memory_utilization=0.3 --engine-option max_model_len=4096
               --engine-option limit_mm_per_prompt=8)
  VLLM_CRITIC=(--critic-option backend=vllm --critic-option enforce_eager=true
               --critic-option gpu_memory_utilization=0.3)
  step "A: tts bestofn, vLLM engine + vLLM critic backend, bf16"
  run "$PY" -m tts bestofn "${COMMON[@]}" "${VLLM_ENGINE[@]}" "${VLLM_CRITIC[@]}" --dtype bf16 --out "$OUT/a"
else
  step "A: tts bestofn, transformers bf16 on CPU, one problem per batch"
  run "$PY" -m tts bestofn "${COMMON[@]}" --engine transformers --device cpu --dtype bf16 --batch-size 1 --out "$OUT/a"
fi

step "B: tts bestofn, transformers engine + transformers critic, bf16"
run "$PY" -m tts bestofn "${COMMON[@]}" --engine transformers --device "$DEVICE" --dtype bf16 --batch-size 4 \
  --out "$OUT/b"

step "the transformers $DTYPE_C critic on A's rollouts (label $LABEL)"
run "$PY" -m tts score "$OUT/a" --critic "$CK/critic" --critic-label "$LABEL" --critic-option score_rounding=bf16 \
  --device "$DEVICE" --dtype "$DTYPE_C"

step "compare"
set +e
"$PY" bench/gpu_check.py compare "$OUT/a" "$OUT/b" --scores visualprm "$LABEL" --title "$TITLE"
status=$?
set -e
echo "== [$((SECONDS - start))s] runs kept in $OUT"
exit $status
