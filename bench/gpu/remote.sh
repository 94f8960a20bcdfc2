#!/usr/bin/env bash
# Runs on the GPU machine (no Node, no network), from the repository root, with .gpu and .gl carried:
#   bash bench/gpu/remote.sh [bundle.mjs] [args...]      (default .gpu/check.mjs)
# Installs the Vulkan loader from .gl/*.deb, points it at the NVIDIA ICD, unpacks Node, runs the bundle.
set -euo pipefail
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
export FACECOMB_WASM_DIR="$PWD/.gpu/wasm/"
[ -x /tmp/n/node ] || { mkdir -p /tmp/n && xz -dc .gpu/node.xz > /tmp/n/node && chmod +x /tmp/n/node; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
bundle="${1:-.gpu/check.mjs}"
shift || true
/tmp/n/node "$bundle" "$@"
