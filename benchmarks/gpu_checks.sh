#!/usr/bin/env bash
# Every GPU check and timing of benchmarks/bench_gpu.py in one command, within 9 minutes on one H200.
#
#   bash benchmarks/gpu_checks.sh OUT_DIR
#
# On the device machine: command `bash benchmarks/gpu_checks.sh $OUT`, carry `["runs/qm9_full.npz"]`.
# runs/qm9_full.npz (ignored by git) is the full QM9 in the packed form, written by
#   pip install 'topoequi[qm9]' && python datasets/make_qm9_sample.py --all --out runs/qm9_full.npz
# Without it part (c) trains on the embedded 5,000-molecule sample.
#
# In order, each in its own process under `timeout`, its output tee'd to OUT_DIR/<step>.log and its exit code
# appended to OUT_DIR/exit_codes.txt (a failed or hung step does not stop the next one):
#   env        nvidia-smi -L; python, torch, CUDA, PyG, e3nn and Triton versions
#   part_e     equivariance on the device (float64) and Triton against torch (float32, float64)
#   part_a     one 16x0e+8x1o layer, forward + backward (~10 ms a step: ~2 x 3 x 23 steps, plus builds)
#   part_b     QM9 training steps (10-50 ms each: ~4 x 3 x 23 steps, padded and CUDA-graph steps)
#   part_c     time-to-accuracy, 3 models x BUDGET s on runs/qm9_full.npz (first read: ~45 s to process)
#   precision  benchmarks/bench_precision.py (every device present: the CPU and cuda:0), if 60 s remain
# Each part writes OUT_DIR/<step>/results.json. BUDGET is what is left of the 9 minutes after parts e, a
# and b, less a 60 s margin, part (c)'s data and evaluation (PART_C_OVERHEAD) and the precision step
# (PRECISION_RESERVE), split over the 3 models and clamped to [10, 90] s (~50 s when e, a, b take ~3 min).
#
# SMALL=1 runs the same steps with `--small --device cpu` (seconds, any machine: checks the plumbing).
# QM9_FULL: another path for the packed full QM9. PYTHON: the interpreter (default: .venv/bin/python if
# present, else python, else python3).
set -u

OUT=${1:?usage: bash benchmarks/gpu_checks.sh OUT_DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
if [ -z "${TOPOEQUI_HOME:-}" ]; then  # QM9 caches: a scratch folder, never under OUT
  TOPOEQUI_HOME=$(mktemp -d)
  trap 'rm -rf "$TOPOEQUI_HOME"' EXIT
  export TOPOEQUI_HOME
fi
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=$(command -v python || command -v python3); fi
fi
export PYTHON

TOTAL_S=540           # 9 minutes
MARGIN_S=60
PART_C_OVERHEAD=90    # processing the full QM9 once, loading it, validation and test MAE of 3 models
PRECISION_RESERVE=60
QM9_FULL=${QM9_FULL:-runs/qm9_full.npz}

if [ "${SMALL:-0}" = 1 ]; then
  BENCH=(--small --device cpu --repeats 1)
  PRECISION_ARGS=(--molecules 4 --elements 2)
else
  BENCH=(--device cuda)
  PRECISION_ARGS=()
fi
: > "$OUT/exit_codes.txt"

left() { echo $((TOTAL_S - SECONDS)); }

# step NAME CAP_S COMMAND...: run COMMAND under timeout min(CAP_S, time left), output tee'd to NAME.log.
step() {
  local name=$1 cap=$2 limit code
  shift 2
  limit=$(left)
  [ "$cap" -lt "$limit" ] && limit=$cap
  if [ "$limit" -lt 5 ]; then
    echo "== $name: skipped, ${limit}s left" | tee "$OUT/$name.log"
    echo "$name skipped" >> "$OUT/exit_codes.txt"
    return
  fi
  echo "== $name (timeout ${limit}s, ${SECONDS}s elapsed): $*"
  timeout -k 10 "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
  code=${PIPESTATUS[0]}
  echo "$name $code" >> "$OUT/exit_codes.txt"
  echo "== $name: exit $code after ${SECONDS}s"
}

versions() {
  if command -v nvidia-smi > /dev/null; then nvidia-smi -L; else echo "nvidia-smi: not found"; fi
  "$PYTHON" - <<'EOF'
import platform

import torch
import torch_geometric

print("python", platform.python_version(), "| torch", torch.__version__, "| CUDA", torch.version.cuda,
      "| cuda available", torch.cuda.is_available(), "| PyG", torch_geometric.__version__)
for name in ("e3nn", "triton"):
    try:
        print(name, __import__(name).__version__)
    except ImportError as exc:
        print(name, "not importable:", exc)
if torch.cuda.is_available():
    print("device", torch.cuda.get_device_name(0))
EOF
}

export -f versions
step env 60 bash -c versions
step part_e 150 "$PYTHON" benchmarks/bench_gpu.py "${BENCH[@]}" --parts e --out "$OUT/part_e"
step part_a 150 "$PYTHON" benchmarks/bench_gpu.py "${BENCH[@]}" --parts a --out "$OUT/part_a"
step part_b 200 "$PYTHON" benchmarks/bench_gpu.py "${BENCH[@]}" --parts b --out "$OUT/part_b"

QM9=()
[ -f "$QM9_FULL" ] && QM9=(--qm9 "$QM9_FULL")
if [ "${SMALL:-0}" = 1 ]; then
  BUDGET=1
else
  BUDGET=$(( ($(left) - MARGIN_S - PART_C_OVERHEAD - PRECISION_RESERVE) / 3 ))
  [ "$BUDGET" -gt 90 ] && BUDGET=90
  [ "$BUDGET" -lt 10 ] && BUDGET=10
fi
echo "== part (c): ${BUDGET}s per model on ${QM9[1]:-the embedded sample}"
step part_c $((3 * BUDGET + PART_C_OVERHEAD)) "$PYTHON" benchmarks/bench_gpu.py "${BENCH[@]}" --parts c \
  --budget "$BUDGET" "${QM9[@]}" --out "$OUT/part_c"

if [ "$(left)" -ge "$PRECISION_RESERVE" ]; then
  step precision $(($(left) - 5)) "$PYTHON" benchmarks/bench_precision.py "${PRECISION_ARGS[@]}" \
    --out "$OUT/precision.json"
else
  echo "precision skipped" >> "$OUT/exit_codes.txt"
  echo "== precision: skipped, $(left)s left"
fi

echo "== done after ${SECONDS}s; exit codes:"
cat "$OUT/exit_codes.txt"
