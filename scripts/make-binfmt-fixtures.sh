#!/usr/bin/env bash
# Build the binary fixtures that the extkit-binfmt tests inspect.
#
# Needs:
#   - zig as a Python package: `pip install ziglang` (used as `python3 -m ziglang cc`)
#   - llvm-lipo from Debian's `llvm-14` package (`apt-get install llvm-14`), for the
#     universal Mach-O
#
# Writes, into crates/extkit-binfmt/tests/fixtures/ (next to hello.c, which it compiles):
#   hello-linux-amd64          static ELF, x86_64-linux-musl
#   hello-linux-amd64-dynamic  dynamic ELF, x86_64-linux-gnu (has a PT_INTERP)
#   hello-linux-arm64          static ELF, aarch64-linux-musl
#   hello-linux-armv7          static ELF, arm-linux-musleabihf (Tag_CPU_arch v7)
#   hello-linux-armv6          static ELF, arm-linux-musleabihf -mcpu=arm1176jzf_s (v6)
#   hello-linux-386            static ELF, x86-linux-musl
#   hello-darwin-amd64         Mach-O, x86_64-macos 10.13 (LC_VERSION_MIN_MACOSX)
#   hello-darwin-arm64         Mach-O, aarch64-macos 11.0 (LC_BUILD_VERSION)
#   hello-darwin-universal     fat Mach-O of the two above, amd64 first
#   hello-windows-amd64.exe    PE32+, console subsystem
#   hello-windows-arm64.exe    PE32+, console subsystem
#   hello-windows-arm64-gui.exe  PE32+, GUI subsystem
#   hello.sh, hello.cmd, hello.ps1  text scripts
#
# Every binary is built with -Os -s to stay small. Running it again rebuilds the same
# set; the bytes may differ between zig versions, which the tests do not depend on.
set -euo pipefail

repository_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="$repository_root/crates/extkit-binfmt/tests/fixtures"
source_file="$fixtures/hello.c"
lipo="${LIPO:-llvm-lipo-14}"

command -v "$lipo" >/dev/null || { echo "error: $lipo not found (apt-get install llvm-14)" >&2; exit 1; }
python3 -m ziglang version >/dev/null || { echo "error: zig not found (pip install ziglang)" >&2; exit 1; }

# zig writes import libraries and other by-products next to the output, so build in a
# scratch directory and copy only the executables.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

compile() {
    local output="$1" target="$2"
    shift 2
    echo "building $output ($target $*)"
    python3 -m ziglang cc -target "$target" -Os -s "$@" -o "$scratch/$output" "$source_file"
    cp "$scratch/$output" "$fixtures/$output"
}

compile hello-linux-amd64 x86_64-linux-musl
compile hello-linux-amd64-dynamic x86_64-linux-gnu
compile hello-linux-arm64 aarch64-linux-musl
compile hello-linux-armv7 arm-linux-musleabihf
compile hello-linux-armv6 arm-linux-musleabihf -mcpu=arm1176jzf_s
compile hello-linux-386 x86-linux-musl
compile hello-darwin-amd64 x86_64-macos.10.13
compile hello-darwin-arm64 aarch64-macos.11.0
compile hello-windows-amd64.exe x86_64-windows-gnu
compile hello-windows-arm64.exe aarch64-windows-gnu
compile hello-windows-arm64-gui.exe aarch64-windows-gnu -Wl,--subsystem,windows

echo "building hello-darwin-universal"
rm -f "$fixtures/hello-darwin-universal"
"$lipo" -create -output "$fixtures/hello-darwin-universal" \
    "$fixtures/hello-darwin-amd64" "$fixtures/hello-darwin-arm64"

# The text fixtures are written here too so the script alone recreates the whole set.
cat >"$fixtures/hello.sh" <<'EOF'
#!/bin/sh
echo "hello from extkit-binfmt"
EOF
chmod +x "$fixtures/hello.sh"

printf '@echo off\r\necho hello from extkit-binfmt\r\n' >"$fixtures/hello.cmd"

cat >"$fixtures/hello.ps1" <<'EOF'
Write-Output "hello from extkit-binfmt"
EOF

du -sh "$fixtures"
