#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU: does tinynet's CUDA path work, agree with the CPU,
# and run fast? At most 8 minutes in all; writes DIR/summary.md (DIR: the first argument, default
# gpu-check/) with every step's status, and each step's full output in DIR/<step>.log.
#
#   scripts/gpu_check.sh [DIR]
#
# Steps: versions (nvidia-smi, CuPy, CUDA, NumPy); tests/test_cuda.py; CPU/GPU parity; the MNIST
# CNN step at batch 64 and 256 against a raw CuPy step and PyTorch; GEMM against cupy.matmul; one
# study with --device cuda; last, the device-generic test suite with --device cuda. The Python parts
# are scripts/gpu_check.py. It installs nothing: the machine's CuPy (one cupy-cuda* wheel matching
# its driver, see the README's "Choosing the GPU") and tinynet's dependencies must be there.
set -u
cd "$(dirname "$0")/.." || exit 1
OUT=${1:-gpu-check}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.md"
PYTHON=${PYTHON:-python}
LIMIT=465                       # the whole check, with the kill margins: under 8 minutes
END=$((SECONDS + LIMIT))
FAILED=0

{
  echo "# tinynet GPU check"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
} > "$SUMMARY"

# step NAME SECONDS COMMAND...: run COMMAND for at most SECONDS (less if the 8 minutes run out),
# its output to $OUT/NAME.log, its status and the lines it marks with "- " to the summary.
step() {
  local name=$1 budget=$2 left status
  shift 2
  left=$((END - SECONDS))
  if ((left < budget)); then budget=$left; fi
  if ((budget < 5)); then
    echo "## $name: not run, the 8 minutes are spent" >> "$SUMMARY"
    FAILED=1
    return
  fi
  local start=$SECONDS
  timeout --kill-after=10 "$budget" "$@" > "$OUT/$name.log" 2>&1
  status=$?
  case $status in
    0) verdict="ok" ;;
    124|137) verdict="STOPPED at its ${budget}s limit"; FAILED=1 ;;
    *) verdict="FAILED (exit $status): $(grep -v '^\s*$' "$OUT/$name.log" | tail -n 1)"; FAILED=1 ;;
  esac
  {
    echo "## $name: $verdict ($((SECONDS - start))s)"
    echo
    grep -E '^- ' "$OUT/$name.log" || true
    # pytest's failures (the first 30) and its last line of counts, when it got that far
    grep -E '^(FAILED|ERROR) ' "$OUT/$name.log" | head -30 | sed 's/^/- /' || true
    grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|error)' "$OUT/$name.log" | tail -1 || true
    echo
  } >> "$SUMMARY"
}

# nvidia-smi's GPU line and its header (driver and CUDA versions), then the Python side's
step versions 30 bash -c 'command -v nvidia-smi > /dev/null || echo "- nvidia-smi: not found"
  nvidia-smi --query-gpu=name,driver_version,memory.total \
    --format=csv,noheader | sed "s/^/- nvidia-smi: /"; nvidia-smi | grep -m1 "CUDA Version" \
    | sed "s/^/- nvidia-smi: /"; exec "$0" scripts/gpu_check.py versions --out "$1"' \
  "$PYTHON" "$OUT"
step test_cuda 75 "$PYTHON" -m pytest tests/test_cuda.py -rfE -p no:cacheprovider
step parity 45 "$PYTHON" scripts/gpu_check.py parity --out "$OUT"
step speed 90 "$PYTHON" scripts/gpu_check.py speed --out "$OUT"
step gemm 30 "$PYTHON" scripts/gpu_check.py gemm --out "$OUT"
step study 60 "$PYTHON" -m experiments simulate_function --smoke --device cuda \
  --out "$OUT/study" --force
# last, with whatever time is left: the device-generic suite, few examples per property (CuPy
# compiles each new kernel on first use, so a cold machine spends much of this on compiling)
step suite_on_cuda $((END - SECONDS - 5)) env TINYNET_HYPOTHESIS=smoke \
  "$PYTHON" -m pytest tests --device cuda -rfE -p no:cacheprovider

echo "Total: $SECONDS s of the ${LIMIT}s allowed." >> "$SUMMARY"
cat "$SUMMARY"
exit $FAILED
