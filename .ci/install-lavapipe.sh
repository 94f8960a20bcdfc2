#!/usr/bin/env bash
# Installs Mesa's lavapipe (a software Vulkan driver) so that Dawn finds a WebGPU adapter ("llvmpipe") on any
# CPU and the webgpu tests run. Debian 12's own Mesa 22.3 is refused by Dawn ("Vulkan
# shaderUniform*ArrayDynamicIndexing required"); Mesa 25 from <codename>-backports works.
# Adds the backports suite to apt's sources, reusing the URI and keyring of the existing Debian entry
# (deb822 /etc/apt/sources.list.d/*.sources, or a one-line /etc/apt/sources.list). Idempotent and quiet:
# a machine that already has it does nothing. Run as root.
#   --sources-only   only write the backports entry (no apt-get)
# SOURCES_DIR overrides /etc/apt/sources.list.d (for checking the script on a copy).
set -euo pipefail

SOURCES_DIR=${SOURCES_DIR:-/etc/apt/sources.list.d}
LIST_FILE=${LIST_FILE:-/etc/apt/sources.list}
sources_only=0
[ "${1:-}" = "--sources-only" ] && sources_only=1

die() { echo "install-lavapipe: $*" >&2; exit 1; }

codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release: this script supports Debian (bookworm or later)"
suite="$codename-backports"

# Already installed from backports (the version says bpo) and Dawn's Vulkan loader finds it: nothing to do.
if [ "$sources_only" = 0 ] && dpkg-query -W -f '${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q 'bpo'; then
  exit 0
fi

has_suite() {
  grep -qsE "^Suites:.*[[:space:]]$suite([[:space:]]|\$)" "$SOURCES_DIR"/*.sources ||
    grep -qsE "^deb[[:space:]].*[[:space:]]$suite[[:space:]]" "$LIST_FILE" "$SOURCES_DIR"/*.list
}

if ! has_suite; then
  # The first deb822 stanza whose Suites include the release itself (not -security): its URIs and Signed-By.
  entry=$(awk -v rel="$codename" '
    BEGIN { RS = ""; FS = "\n" }
    {
      uris = ""; signed = ""; ok = 0; types = ""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
        if ($i ~ /^Signed-By:/) { signed = $i; sub(/^Signed-By:[ \t]*/, "", signed) }
        if ($i ~ /^Types:/) { types = $i }
        if ($i ~ /^Suites:/) { n = split(substr($i, 8), s, /[ \t]+/); for (j = 1; j <= n; j++) if (s[j] == rel) ok = 1 }
      }
      if (ok && types ~ /deb([ \t]|$)/ && uris != "") { print uris "\t" signed; exit }
    }' "$SOURCES_DIR"/*.sources 2>/dev/null || true)
  if [ -z "$entry" ] && [ -f "$LIST_FILE" ]; then
    # One-line format: deb [signed-by=KEY] URI bookworm main
    entry=$(awk -v rel="$codename" '$1 == "deb" {
        signed = ""; k = 2
        if ($2 ~ /^\[/) { for (; k <= NF; k++) { if ($k ~ /signed-by=/) { signed = $k; sub(/.*signed-by=/, "", signed); sub(/\].*/, "", signed) } if ($k ~ /\]$/) { k++; break } } }
        if ($(k + 1) == rel) { print $k "\t" signed; exit }
      }' "$LIST_FILE")
  fi
  [ -n "$entry" ] || die "found no Debian '$codename' entry in $SOURCES_DIR/*.sources or $LIST_FILE to copy the URI and keyring from; add '$suite' to apt's sources by hand"
  uris=${entry%%$'\t'*}
  signed=${entry#*$'\t'}
  {
    echo "Types: deb"
    echo "URIs: $uris"
    echo "Suites: $suite"
    echo "Components: main"
    [ -n "$signed" ] && echo "Signed-By: $signed"
  } >"$SOURCES_DIR/backports.sources"
fi
[ "$sources_only" = 1 ] && exit 0

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || die "apt-get update failed"
apt-get install -y -qq -t "$suite" mesa-vulkan-drivers >/dev/null || die "apt-get install -t $suite mesa-vulkan-drivers failed"
