#!/usr/bin/env bash
# Train Needle on a CUDA GPU and print the Still's seconds, positions/s, model FLOP/s and proof.
#
#   bash bench/gpu.sh              # one GPU
#   NPROC=2 bash bench/gpu.sh      # two GPUs, data-parallel (NCCL)
#
# Setup takes well under a minute where a CUDA build of torch is installed (it is used as is);
# otherwise the script makes .venv-gpu and asks pip for one (needs network: ~2.5 GB). UNMEASURED:
# written in a session without a GPU; the README says so until someone pastes its output there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
NPROC=${NPROC:-1}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || { echo "bench/gpu.sh: no nvidia-smi, so no GPU here" >&2; exit 2; }

has_cuda_torch() { "$1" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; }
if ! has_cuda_torch "$PY"; then
    [ -x .venv-gpu/bin/python ] || "$PY" -m venv --system-site-packages .venv-gpu
    PY=.venv-gpu/bin/python
    has_cuda_torch "$PY" || "$PY" -m pip install -q "torch>=2.4,<2.14" --index-url https://download.pytorch.org/whl/cu128
fi
# the package without its torch requirement (pip must not swap the CUDA build for another one)
"$PY" - > /tmp/distill-gpu-deps.txt <<'EOF'
import tomllib
print("\n".join(d for d in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"] if not d.startswith("torch")))
EOF
"$PY" -m pip install -q -r /tmp/distill-gpu-deps.txt
"$PY" -m pip install -q --no-deps -e .
"$PY" -c 'import torch; print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.device_count()} GPU(s): {torch.cuda.get_device_name(0)}, bf16 {torch.cuda.is_bf16_supported()}")'

export DISTILL_DEVICE=cuda DISTILL_PROGRESS=off
STORE=$(mktemp -d)/store
# Needle from a fresh store (built-in teacher) through its notes: Still seconds, positions/s, proof
time "$PY" bench/needle.py recipes/needle.yaml --store "$STORE" --until notes --nproc "$NPROC"
# the Still's step against the GPU's bf16 matmul ceiling, on the same cuts
"$PY" bench/still.py recipes/needle.yaml recipes/intent.yaml --store "$STORE" --nproc "$NPROC" --rounds 5 --steps 20
# a GPU-trained Spirit verified on the CPU: the proof re-measured there must match
DISTILL_CELLAR=$(dirname "$STORE")/cellar DISTILL_DEVICE=cpu "$PY" -m distill.cli build recipes/needle.yaml --store "$STORE" --format pt
DISTILL_DEVICE=cpu CUDA_VISIBLE_DEVICES= "$PY" -m distill.cli verify "$(dirname "$STORE")/cellar/needle/needle.pt" --store "$STORE"
