#!/usr/bin/env bash
# The one GPU measurement of the training engine (bench/gpu/README.md). Here, once:
#   bash bench/gpu/prepare.sh && bash bench/gpu/bundle.sh bench/gpu/comb.ts
# then on the GPU machine, from the repository root, with .gpu and .gl carried:
#   OUT=$OUT bash bench/gpu/run.sh            (about 5 minutes on an H100/H200)
# Runs PyTorch's comb_reference.py and our comb benchmark (ours, ours in f16, tfjs's kernels; same run) at 128/256/512/1024 px
# and prints img/s with the ratio to PyTorch fp32; then a per-kernel profile of one step at 64/256 px, and the
# conv + LeakyReLU fusion modes at 256/1024 px. Everything lands in $OUT (torch.txt, comb-webgpu.json,
# profile/comb-webgpu.json, fusion/comb-webgpu.json, log.txt).
set -uo pipefail
# f16 on NVIDIA needs this Dawn toggle (else the adapter offers no shader-f16 and the f16 row is left out)
export FACECOMB_DAWN_FEATURES="${FACECOMB_DAWN_FEATURES:-allow_unsafe_apis,vulkan_enable_f16_on_nvidia}"
OUT="${OUT:-/tmp/facecomb-gpu}"
mkdir -p "$OUT/profile"
ref=""
for f in .gpu/comb_reference.py ../shared/bench/comb_reference.py shared/bench/comb_reference.py; do
  [ -f "$f" ] && { ref="$f"; break; }
done
{
  date -u
  if [ -n "$ref" ]; then
    timeout 240 python3 "$ref" | tee "$OUT/torch.txt"
  else
    echo "comb_reference.py not found (.gpu/, ../shared/bench/, shared/bench/): no PyTorch figures"
    : > "$OUT/torch.txt"
  fi
  OUT="$OUT" timeout 400 bash bench/gpu/remote.sh .gpu/comb.mjs --sizes 128,256,512,1024 --scale 1 --steps 3 \
    --kernels ours,f16,tfjs --no-profile --reference "$OUT/torch.txt"
  OUT="$OUT/profile" timeout 150 bash bench/gpu/remote.sh .gpu/comb.mjs --sizes 64,256 --scale 1 --steps 2 --kernels ours,f16,tfjs
  # conv + bias + LeakyReLU: unfused, derivative in one pass, derivative in the gradient kernels' loads (same run)
  OUT="$OUT/fusion" timeout 240 bash bench/gpu/remote.sh .gpu/comb.mjs --sizes 256,1024 --scale 1 --steps 3 --kernels ours \
    --fusion off,grad,prologue
} 2>&1 | grep -v 'artificially reduced' | tee "$OUT/log.txt"
