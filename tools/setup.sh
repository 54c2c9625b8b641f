#!/usr/bin/env bash
# Description: get a Debian 12 machine ready to build, run and test hartos, then
# configure build/. Safe to run again: it installs only what is missing.
#   tools/setup.sh && ninja -C build run
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # the repository root, whatever the caller's cwd

packages=(gcc-riscv64-linux-gnu qemu-system-misc opensbi gdb-multiarch cmake ninja-build
          python3 gnuplot-nox device-tree-compiler)

if command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for p in "${packages[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [[ $status == "install ok installed" ]] || missing+=("$p")
    done
    if ((${#missing[@]})); then
        echo "setup: installing ${missing[*]}"
        sudo=()
        if [[ $(id -u) -ne 0 ]]; then
            command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
            sudo=(sudo)
        fi
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q "${missing[@]}" </dev/null
    else
        echo "setup: all packages present"
    fi
else
    echo "setup: no dpkg here; install by hand: ${packages[*]}" >&2
fi

# Configure (cheap, and picks up new cache defaults); an existing build/ keeps its options.
cmake -S . -B build -G Ninja
echo "setup: done. Boot hartos: ninja -C build run    Test it: ninja -C build test"
