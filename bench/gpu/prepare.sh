#!/usr/bin/env bash
# One-time preparation on the development machine: the Vulkan/EGL loader libraries the GPU machine lacks,
# downloaded as .deb files into .gl/ (amd64, from the configured apt mirrors), and Node compressed into .gpu/.
# Both folders are git-ignored. Then run bench/gpu/bundle.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
mkdir -p .gpu .gl /tmp/amd64/partial
[ -f .gpu/node.xz ] || xz -T2 -6 -c "$(command -v node)" > .gpu/node.xz
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update
(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
ls -la .gl
