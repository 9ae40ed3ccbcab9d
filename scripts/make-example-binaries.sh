#!/usr/bin/env bash
# Build the host binaries of examples/hello-extension from its one C program.
#
# Needs zig as a Python package: `pip install ziglang` (used as `python3 -m ziglang cc`).
#
# Writes, into examples/hello-extension/host/ (next to hello.c, which it compiles), one
# folder per CPU that the Dockerfile picks with ${TARGETARCH}:
#   amd64/darwin/hello        Mach-O, x86_64-macos 11.0
#   amd64/windows/hello.exe   PE32+, x86_64-windows-gnu, console subsystem
#   amd64/linux/hello         static ELF, x86_64-linux-musl
#   arm64/darwin/hello        Mach-O, aarch64-macos 11.0
#   arm64/windows/hello.exe   PE32+, aarch64-windows-gnu, console subsystem
#   arm64/linux/hello         static ELF, aarch64-linux-musl
#
# Every binary is built with -Os -s to stay small. Running it again rebuilds the same set;
# the bytes may differ between zig versions, which only changes the example's digests.
set -euo pipefail

repository_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
host="$repository_root/examples/hello-extension/host"
source_file="$host/hello.c"

python3 -m ziglang version >/dev/null || { echo "error: zig not found (pip install ziglang)" >&2; exit 1; }

# zig writes import libraries and other by-products next to the output, so build in a
# scratch directory and copy only the executables.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

compile() {
    local output="$1" target="$2"
    echo "building $output ($target)"
    mkdir -p "$scratch/$(dirname "$output")" "$host/$(dirname "$output")"
    python3 -m ziglang cc -target "$target" -Os -s -o "$scratch/$output" "$source_file"
    cp "$scratch/$output" "$host/$output"
    chmod 0755 "$host/$output"
}

compile amd64/darwin/hello x86_64-macos.11.0
compile amd64/windows/hello.exe x86_64-windows-gnu
compile amd64/linux/hello x86_64-linux-musl
compile arm64/darwin/hello aarch64-macos.11.0
compile arm64/windows/hello.exe aarch64-windows-gnu
compile arm64/linux/hello aarch64-linux-musl

du -sh "$host"
