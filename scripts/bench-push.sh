#!/usr/bin/env bash
# Benchmark of pushing a two-platform extension image of about 50 MB to a local CNCF registry:
# `extkit copy` (release build) against `skopeo copy --all`, and the registry's floor, the same
# blobs sent by curl with no client logic. Results go to the `## push` section of
# docs/benchmarks.md (created with a `# Benchmarks` heading when missing; other sections, and
# the hand-written notes after the generated "Machine:" paragraph, are left alone).
#
# Usage: scripts/bench-push.sh            (RUNS=10 by default; EXTKIT=path to use another binary;
#                                          OUT=file to write elsewhere, OUT=- to only print)
# Needs: docker-registry, skopeo, curl, jq, hyperfine, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-10}
OUT=${OUT:-$ROOT/docs/benchmarks.md}
EXTKIT=${EXTKIT:-}
PARALLEL=4 # extkit's default number of parallel uploads; the curl floor uses as many.

for tool in docker-registry skopeo curl jq hyperfine python3; do
    command -v "$tool" >/dev/null || { echo "error: \`$tool\` is not installed" >&2; exit 2; }
done
if [ -z "$EXTKIT" ]; then
    (cd "$ROOT" && cargo build --release --locked -p extkit -q)
    EXTKIT=$ROOT/target/release/extkit
fi

WORK=$(mktemp -d)
cleanup() {
    for pid in "$WORK"/registry-*/pid; do
        if [ -f "$pid" ]; then kill "$(cat "$pid")" 2>/dev/null || true; fi
    done
    sleep 0.2
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- The image: a UI folder of many files shared by both platforms, host binaries per platform.
echo "generating the image..." >&2
python3 - "$WORK/ctx" <<'PY'
import base64, os, random, sys
ctx = sys.argv[1]
rng = random.Random(20240501)
def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
# 1000 UI files of 20 kB of base64 text (compresses to about 3/4), in 20 folders.
for i in range(1000):
    write(f"{ctx}/ui/assets/{i % 20:02d}/chunk-{i:04d}.js", base64.b64encode(rng.randbytes(15000)))
write(f"{ctx}/ui/index.html", b"<!doctype html><script src=assets/00/chunk-0000.js></script>\n")
# Per CPU, one host binary per OS: 5 MiB that do not compress.
for arch in ("amd64", "arm64"):
    for system, name in (("darwin", "tool"), ("linux", "tool"), ("windows", "tool.exe")):
        write(f"{ctx}/host/{arch}/{system}/{name}", rng.randbytes(5 << 20))
write(f"{ctx}/metadata.json", b'{"icon":"icon.svg","ui":{"dashboard-tab":{"title":"Bench","root":"/ui","src":"index.html"}}}\n')
write(f"{ctx}/Dockerfile", b"""FROM scratch
ARG TARGETARCH
LABEL org.opencontainers.image.title=bench
COPY metadata.json /
COPY ui /ui
COPY host/${TARGETARCH} /host
""")
PY
LAYOUT=$WORK/layout
"$EXTKIT" -q build "$WORK/ctx" --output "oci:$LAYOUT:latest" --no-validate >"$WORK/digest"
DIGEST=$(cat "$WORK/digest")

# The push order of the curl floor: blobs (configs and layers, each once), then the platform
# manifests, then the index.
ROOT_DIGEST=$(jq -r '.manifests[0].digest' "$LAYOUT/index.json")
ROOT_TYPE=$(jq -r '.manifests[0].mediaType' "$LAYOUT/index.json")
blob() { echo "$LAYOUT/blobs/sha256/${1#sha256:}"; }
jq -r '.manifests[] | "\(.digest) \(.mediaType)"' "$(blob "$ROOT_DIGEST")" >"$WORK/manifests.txt"
while read -r digest _; do
    jq -r '.config.digest, .layers[].digest' "$(blob "$digest")"
done <"$WORK/manifests.txt" | sort -u >"$WORK/blobs.txt"
BLOB_COUNT=$(wc -l <"$WORK/blobs.txt")
TOTAL_BYTES=$(while read -r digest; do stat -c %s "$(blob "$digest")"; done <"$WORK/blobs.txt" |
    awk '{ s += $1 } END { print s }')
echo "image $DIGEST: $BLOB_COUNT blobs, $TOTAL_BYTES bytes" >&2

# --- Registries: one per client, each on a free loopback port, from a config in the temp folder.
# skopeo remembers in its blob-info cache which repositories hold a blob and mounts from them, so
# a new repository in a used registry is not empty for it: every timed run of the empty case
# gets a registry restarted on wiped storage (hyperfine's --prepare, not timed).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
BIN=$WORK/bin
mkdir -p "$BIN"
cat >"$BIN/registry" <<EOF
#!/bin/sh
# registry start|wipe NAME: (re)starts the registry NAME, wiping its storage with wipe.
set -e
dir=$WORK/registry-\$2
if [ -f "\$dir/pid" ]; then
    kill "\$(cat "\$dir/pid")" 2>/dev/null || true
    while kill -0 "\$(cat "\$dir/pid")" 2>/dev/null; do sleep 0.02; done
fi
[ "\$1" = wipe ] && rm -rf "\$dir/data"
setsid docker-registry serve "\$dir/config.yml" >"\$dir/log" 2>&1 </dev/null &
echo \$! >"\$dir/pid"
address=\$(cat "\$dir/address")
for _ in \$(seq 200); do
    curl -fs "http://\$address/v2/" >/dev/null && exit 0
    sleep 0.05
done
echo "error: the registry did not start:" >&2; cat "\$dir/log" >&2; exit 2
EOF
chmod +x "$BIN/registry"
start_registry() { # NAME -> prints HOST:PORT
    local dir=$WORK/registry-$1 port
    port=$(free_port)
    mkdir -p "$dir"
    echo "127.0.0.1:$port" >"$dir/address"
    cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog: { disabled: true }
storage:
  filesystem: { rootdirectory: $dir/data }
  maintenance: { uploadpurging: { enabled: false } }
http:
  addr: 127.0.0.1:$port
  secret: bench-secret
EOF
    "$BIN/registry" start "$1" >&2
    cat "$dir/address"
}
R_EXTKIT=$(start_registry extkit)
R_SKOPEO=$(start_registry skopeo)
R_CURL=$(start_registry curl)

# --- The clients, as scripts that push to a new repository on every run (`empty`) or to the
# same one every time (`warm`).
cat >"$BIN/next-repo" <<'EOF'
#!/bin/sh
# A repository name not used before in this run.
n=$(cat "$1" 2>/dev/null || echo 0); echo $((n + 1)) >"$1"; echo "bench-$((n + 1))"
EOF
cat >"$BIN/extkit-push" <<EOF
#!/bin/sh
set -e
repo=\${1:-\$("$BIN/next-repo" "$WORK/extkit.count")}
"$EXTKIT" -q copy "oci:$LAYOUT:latest" "docker://$R_EXTKIT/\$repo:1" >/dev/null
EOF
cat >"$BIN/skopeo-push" <<EOF
#!/bin/sh
set -e
repo=\${1:-\$("$BIN/next-repo" "$WORK/skopeo.count")}
skopeo copy -q --all --preserve-digests --dest-tls-verify=false \\
    "oci:$LAYOUT:latest" "docker://$R_SKOPEO/\$repo:1"
EOF
# The floor: per blob a HEAD (skipping what is there), else POST for an upload session and one
# PUT with the whole blob, $PARALLEL blobs at a time; then the manifests and the index.
cat >"$BIN/curl-blob" <<EOF
#!/bin/sh
set -e
repo=\$1 digest=\$2
base=http://$R_CURL/v2/\$repo/blobs
curl -fsI -o /dev/null "\$base/\$digest" && exit 0
location=\$(curl -fs -X POST -D - -o /dev/null "\$base/uploads/" |
    tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
case \$location in http*) ;; *) location=http://$R_CURL\$location ;; esac
case \$location in *\?*) sep='&' ;; *) sep='?' ;; esac
curl -fs -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \\
    --data-binary "@$LAYOUT/blobs/sha256/\${digest#sha256:}" "\$location\${sep}digest=\$digest"
EOF
cat >"$BIN/curl-push" <<EOF
#!/bin/sh
set -e
repo=\${1:-\$("$BIN/next-repo" "$WORK/curl.count")}
xargs -P $PARALLEL -n 1 "$BIN/curl-blob" "\$repo" <"$WORK/blobs.txt"
while read -r digest type; do
    curl -fs -o /dev/null -X PUT -H "Content-Type: \$type" \\
        --data-binary "@$LAYOUT/blobs/sha256/\${digest#sha256:}" \\
        "http://$R_CURL/v2/\$repo/manifests/\$digest"
done <"$WORK/manifests.txt"
curl -fs -o /dev/null -X PUT -H "Content-Type: $ROOT_TYPE" \\
    --data-binary "@$LAYOUT/blobs/sha256/${ROOT_DIGEST#sha256:}" "http://$R_CURL/v2/\$repo/manifests/1"
EOF
chmod +x "$BIN"/*

# Every client must leave the same index in its registry; `warm` is then the re-push case.
for client in extkit skopeo curl; do
    "$BIN/$client-push" warm
done
for address in "$R_EXTKIT" "$R_SKOPEO" "$R_CURL"; do
    got=$(skopeo inspect --raw --tls-verify=false "docker://$address/warm:1" | sha256sum | cut -d' ' -f1)
    [ "sha256:$got" = "$DIGEST" ] || { echo "error: $address/warm:1 has sha256:$got, not $DIGEST" >&2; exit 1; }
done

# --- Timing.
hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$WORK/empty.json" \
    -n extkit --prepare "$BIN/registry wipe extkit" "$BIN/extkit-push" \
    -n skopeo --prepare "$BIN/registry wipe skopeo" "$BIN/skopeo-push" \
    -n curl --prepare "$BIN/registry wipe curl" "$BIN/curl-push" >&2
hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$WORK/warm.json" \
    -n extkit "$BIN/extkit-push warm" -n skopeo "$BIN/skopeo-push warm" \
    -n curl "$BIN/curl-push warm" >&2

# --- The report.
python3 - "$WORK" "$OUT" <<PY
import json, pathlib, re, sys
work, out = pathlib.Path(sys.argv[1]), sys.argv[2]
def medians(name):
    return {r["command"]: r for r in json.loads((work / name).read_text())["results"]}
empty, warm = medians("empty.json"), medians("warm.json")
def cell(r):
    return f"{r['median'] * 1000:.0f} ms (±{r['stddev'] * 1000:.0f})"
def ratio(rows, a, b):
    return rows[a]["median"] / rows[b]["median"]
lines = [
    "## push",
    "",
    "\`scripts/bench-push.sh\`: a two-platform extension image built by \`extkit build\` from a",
    "generated context (1000 UI files of 20 kB shared by both platforms, three 5 MiB host",
    "binaries per platform): $BLOB_COUNT blobs, $((TOTAL_BYTES / 1000000)) MB, pushed from an OCI layout to",
    "Debian's CNCF registry ($(docker-registry --version | awk '{print $3}')) on 127.0.0.1, one",
    "registry per client. *Empty*: a registry restarted on wiped storage before every run (so",
    "skopeo's blob-info cache cannot mount from earlier runs); *re-push*: every blob is",
    "already there. Medians of $RUNS runs after one warm-up (hyperfine), wall-clock time.",
    "",
    "| client | empty repository | re-push |",
    "| --- | --- | --- |",
]
for name, label in (
    ("extkit", "\`extkit copy\` (release)"),
    ("skopeo", "\`skopeo copy --all\` ($(skopeo --version | awk '{print $3}'))"),
    ("curl", "floor: curl, HEAD + POST + PUT per blob, $PARALLEL at a time"),
):
    lines.append(f"| {label} | {cell(empty[name])} | {cell(warm[name])} |")
e, w = ratio(empty, "extkit", "skopeo"), ratio(warm, "extkit", "skopeo")
ef = ratio(empty, "extkit", "curl")
lines += [
    "",
    f"- extkit / skopeo, empty repository: **{e:.2f}×** (target ≤ 0.7×: "
    + ("met" if e <= 0.7 else "**missed**") + ")",
    f"- extkit / skopeo, re-push: **{w:.2f}×** (target ≤ 1×: "
    + ("met" if w <= 1.0 else "**missed**") + ")",
    f"- extkit / curl floor, empty repository: {ef:.2f}×",
    "",
    "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),",
    "shared with other work while measuring, so the spread is wide; compare within one run.",
    "",
]
section = "\n".join(lines)
print(section)
if out == "-":
    sys.exit()
path = pathlib.Path(out)
text = path.read_text() if path.exists() else "# Benchmarks\n"
match = re.search(r"^## push\n.*?(?=^## |\Z)", text, flags=re.M | re.S)
if match:
    # Hand-written notes follow the paragraph that starts with "Machine:"; they are kept.
    notes = re.search(r"^Machine: .*?\n\n(.*)", match.group(0), flags=re.M | re.S)
    if notes and notes.group(1).strip():
        section += "\n" + notes.group(1).strip("\n") + "\n\n"
    text = text[: match.start()] + section + text[match.end():]
else:
    text = text.rstrip("\n") + "\n\n" + section
path.write_text(text.rstrip("\n") + "\n")
PY
