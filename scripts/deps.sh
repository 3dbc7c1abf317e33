#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Install the Debian packages Moat needs, when missing. As root it runs apt-get; otherwise it
# prints the exact command to run and fails.
#   scripts/deps.sh          everything (build, tests, fuzzers, QEMU)
set -euo pipefail

pkgs=(build-essential g++ cmake ninja-build clang libclang-rt-14-dev llvm libcmocka-dev python3
      qemu-system-x86 binutils)

have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
for p in "${pkgs[@]}"; do have "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Moat needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
