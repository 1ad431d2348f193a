#!/usr/bin/env bash
# Make a Vulkan device available for the wgpu GPU executor (precompiles/gpu).
#
# Where no GPU exists (CI, this container), Mesa's lavapipe is a real, software Vulkan device:
# the same WGSL kernels run on it. This script is idempotent: it installs Debian's
# `mesa-vulkan-drivers` (lavapipe's ICD) and `libvulkan1` (the Vulkan loader) only when the
# lavapipe ICD file or `libvulkan.so.1` is missing, then prints what it found.
#
#   scripts/vulkan-env.sh            # install if needed, report
#
# Runs apt-get as root, through sudo otherwise.
set -euo pipefail

find_icd() {
    ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -n 1 || true
}

find_loader() {
    if command -v ldconfig >/dev/null 2>&1; then
        ldconfig -p 2>/dev/null | awk '/libvulkan\.so\.1 /{print $NF}' || true
    fi
    for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib; do
        [ -e "$d/libvulkan.so.1" ] && { echo "$d/libvulkan.so.1"; return; }
    done
    true
}

icd="$(find_icd)"
loader="$(find_loader | head -n 1 || true)"

if [ -z "$icd" ] || [ -z "$loader" ]; then
    echo "vulkan-env: lavapipe ICD: ${icd:-missing}; libvulkan.so.1: ${loader:-missing}; installing mesa-vulkan-drivers libvulkan1"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1 >/dev/null
    icd="$(find_icd)"
    loader="$(find_loader | head -n 1 || true)"
fi

echo "vulkan-env: lavapipe ICD: ${icd:-missing}"
echo "vulkan-env: Vulkan loader: ${loader:-missing}"
if [ -z "$icd" ] || [ -z "$loader" ]; then
    echo "vulkan-env: no usable Vulkan device (lavapipe) after installation" >&2
    exit 1
fi
