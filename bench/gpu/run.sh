#!/usr/bin/env bash
# The one GPU measurement of the training engine (bench/gpu/README.md). Here, once:
#   bash bench/gpu/prepare.sh && bash bench/gpu/bundle.sh bench/gpu/comb.ts
# then on the GPU machine, from the repository root, with .gpu and .gl carried:
#   OUT=$OUT bash bench/gpu/run.sh            (at most ~7.5 minutes: every part has a time limit)
# 1. nvidia-smi -> gpu.txt; 2. PyTorch's comb_reference.py -> torch.txt; 3. img/s of the comb model at
# 256/1024/128/512 px (the goal sizes first, should a deadline cut the end) per variant (VARIANTS, default ours,f16,tfjs) with the ratio to PyTorch fp32 -> comb-webgpu.json;
# 4. the same at 256/1024 px with the conv GEMMs on tensor cores (SMX_VARIANTS, default smx,smx-all; validated first, skipped with
# the reason when the device cannot run them) in a process of its own with Dawn's unsafe APIs -> smx/comb-webgpu.json;
# 5. the per-kernel profile of one step at 64/256/1024 px (ours, tfjs) and the fused-loss benchmark ->
# profile/comb-webgpu.json, ssim-loss.json; 6. RESULTS.md from all of it (commit it as bench/gpu/RESULTS.md).
# JSON is written after every row, so a part cut short by its limit still leaves what it measured. log.txt has
# everything printed. TINY=1: the same sequence on this machine at lavapipe sizes with the local node
# (BACKEND=wasm: on wasm).
set -uo pipefail
OUT="${OUT:-/tmp/facecomb-gpu}"
VARIANTS="${VARIANTS:-ours,f16,tfjs}"
SMX_VARIANTS="${SMX_VARIANTS:-smx,smx-all}"
BACKEND="${BACKEND:-webgpu}"
# Dawn toggles: f16 on NVIDIA needs vulkan_enable_f16_on_nvidia; subgroup matrices need allow_unsafe_apis (and
# Dawn's own tests of them run Vulkan with use_vulkan_memory_model), given to their process only
DAWN="${FACECOMB_DAWN_FEATURES:-vulkan_enable_f16_on_nvidia}"
SMX_DAWN="${SMX_DAWN_FEATURES:-allow_unsafe_apis,vulkan_enable_f16_on_nvidia,use_vulkan_memory_model}"
mkdir -p "$OUT/profile" "$OUT/smx" "$OUT/fusion"
[ -f .gpu/comb.mjs ] || { echo "no .gpu/comb.mjs: run bash bench/gpu/bundle.sh bench/gpu/comb.ts first"; exit 2; }
if [ -n "${TINY:-}" ]; then
  comb=(node .gpu/comb.mjs --backend "$BACKEND")
  speed=(--sizes 16,32 --tiny); smx=(--sizes 16,32 --tiny); prof=(--sizes 16,32 --tiny); fus=(--sizes 16 --tiny); loss=16,32; torch_s=60
else
  comb=(bash bench/gpu/remote.sh .gpu/comb.mjs)
  speed=(--sizes 256,1024,128,512 --scale 1 --steps 5); smx=(--sizes 256,1024 --scale 1 --steps 5); prof=(--sizes 256,1024,64 --scale 1 --steps 1); fus=(--sizes 256 --scale 1 --steps 3); loss=64,128,256; torch_s=140
fi
ref=""
for f in .gpu/comb_reference.py ../shared/bench/comb_reference.py shared/bench/comb_reference.py; do
  [ -f "$f" ] && { ref="$f"; break; }
done
{
  date -u
  (nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi") | head -1 | tee "$OUT/gpu.txt"
  if [ -n "$ref" ] && python3 -c 'import torch' 2>/dev/null; then
    timeout "$torch_s" python3 -u "$ref" | tee "$OUT/torch.txt"    # -u: lines survive a timeout
  else
    echo "no PyTorch figures (comb_reference.py: ${ref:-not found in .gpu/, ../shared/bench/, shared/bench/}; torch importable: no)"
    : > "$OUT/torch.txt"
  fi
  echo "== speed ($VARIANTS)"
  FACECOMB_DAWN_FEATURES="$DAWN" OUT="$OUT" timeout 160 "${comb[@]}" "${speed[@]}" --kernels "$VARIANTS" --no-profile \
    --budget-s 20 --deadline-s 140 --reference "$OUT/torch.txt"
  echo "== tensor cores ($SMX_VARIANTS; Dawn: $SMX_DAWN)"
  FACECOMB_DAWN_FEATURES="$SMX_DAWN" OUT="$OUT/smx" timeout 80 "${comb[@]}" "${smx[@]}" --kernels "$SMX_VARIANTS" --no-profile \
    --budget-s 15 --deadline-s 65 --reference "$OUT/torch.txt"
  echo "== profile and fused loss"
  FACECOMB_DAWN_FEATURES="$DAWN" OUT="$OUT/profile" timeout 80 "${comb[@]}" "${prof[@]}" --kernels ours,tfjs \
    --budget-s 12 --deadline-s 60 --loss "$loss"
  [ -f "$OUT/profile/ssim-loss.json" ] && cp "$OUT/profile/ssim-loss.json" "$OUT/ssim-loss.json"
  echo "== conv + bias + LeakyReLU fusion: unfused, derivative in one pass, in the gradient kernels' loads (same run)"
  FACECOMB_DAWN_FEATURES="$DAWN" OUT="$OUT/fusion" timeout 60 "${comb[@]}" "${fus[@]}" --kernels ours --fusion off,grad,prologue \
    --no-profile --budget-s 15 --deadline-s 50
  echo "== RESULTS.md"
  if [ -n "${TINY:-}" ]; then node .gpu/comb.mjs --results "$OUT" > "$OUT/RESULTS.md"; else
    [ -x /tmp/n/node ] || { mkdir -p /tmp/n && xz -dc .gpu/node.xz > /tmp/n/node && chmod +x /tmp/n/node; }
    /tmp/n/node .gpu/comb.mjs --results "$OUT" > "$OUT/RESULTS.md"
  fi
  cat "$OUT/RESULTS.md"
  date -u
} 2>&1 | grep -v 'artificially reduced' | tee "$OUT/log.txt"
