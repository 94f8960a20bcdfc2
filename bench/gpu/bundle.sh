#!/usr/bin/env bash
# Bundles bench/gpu/check.ts (or the .ts file given as $1) into .gpu/<name>.mjs for a machine that has no
# Node.js install and no network (see bench/gpu/README.md). Run from anywhere inside the repository.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
src="${1:-bench/gpu/check.ts}"
out="${GPU_DIR:-.gpu}"
name="$(basename "$src" .ts)"
mkdir -p "$out/node_modules/webgpu/dist/linux-x64" "$out/wasm"
npx esbuild "$src" --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --banner:js="import {createRequire as __bannerRequire} from 'module'; import {fileURLToPath as __bannerPath} from 'url'; import {dirname as __bannerDir} from 'path'; const require=__bannerRequire(import.meta.url); const __filename=__bannerPath(import.meta.url); const __dirname=__bannerDir(__filename);" \
  --log-level=warning --outfile="$out/$name.mjs"
# Dawn for Node, loaded at run time from .gpu/node_modules/webgpu.
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$out/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$out/node_modules/webgpu/dist/linux-x64/"
# The wasm engine's binaries (used when FACECOMB_WASM_DIR points here).
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/wasm/"
# PyTorch's reference model, run beside ours by bench/gpu/run.sh.
[ -f ../shared/bench/comb_reference.py ] && cp ../shared/bench/comb_reference.py "$out/"
# Node itself, once (about 24 MB).
[ -f "$out/node.xz" ] || xz -T2 -6 -c "$(command -v node)" > "$out/node.xz"
du -sh "$out" | awk '{print "bundle folder: " $2 " " $1}'
echo "bundle: $out/$name.mjs"
