#!/usr/bin/env bash
# Pull benchmark: tug vs skopeo on the same ~1 GiB image from a local
# docker-registry, in the same run, plus tug's peak RSS. Registry fill
# benchmark: `tug build` of a context whose imageList names 20 images of
# that registry (fresh build cache each round) vs `skopeo copy` of the same
# 20 images into dirs. Then the unpack benchmark (benches/unpack.rs) when it
# exists. Install benchmark (benches/install/, real sshd test hosts, needs
# root): `tug run` of a ~1 GiB image to 4 hosts vs OpenSSH `tar -c | ssh
# host 'tar -x'` to the same 4 hosts in parallel, bytes on the wire per
# host, and a no-op re-apply on 5 hosts.
#
#   scripts/bench.sh                  # BENCH_DIR keeps generated images between runs
#   SECTIONS="fill" scripts/bench.sh  # only some of: pull fill unpack discover install scale
#
# Prints `pull ratio tug/skopeo = X.XX` (target <= 1.00),
# `store-time check ratio checked/unchecked = X.XX` (target <= 1.10: the
# same layers pulled as a cluster image, scanned and vetted, and as a plain
# image, not),
# `tug peak RSS = N MiB` (target <= 64),
# `registry fill ratio tug/skopeo = X.XX` (target <= 1.00),
# `install ratio tug/ssh = X.XX` (target <= 1.00),
# `install tug peak RSS = N MiB` (target <= 100) and
# `no-op re-apply on 5 hosts = X.XX s` (target <= 2 s),
# `scale ratio t50/t5 = X.XX` (target <= 6) and `scale tug peak RSS = N MiB`
# (target <= 150).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH_DIR=${BENCH_DIR:-$TARGET/bench}
ROUNDS=${ROUNDS:-3}
TAG=bench/cluster-image:v1
SECTIONS=${SECTIONS:-pull fill unpack discover install scale}
want() { [[ " $SECTIONS " == *" $1 "* ]]; }

need() { command -v "$1" >/dev/null 2>&1; }
# GNU time (peak RSS) and jq are not test dependencies; install them here.
missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v jq >/dev/null 2>&1 || missing+=(jq)
if [ "${#missing[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for tool in docker-registry skopeo umoci jq gzip sha256sum; do
    need "$tool" || { echo "bench: $tool is missing (see scripts/test.sh)" >&2; exit 1; }
done

echo "== building tug (release)"
cargo build --release --quiet
TUG=$TARGET/release/tug

# --- the image: several gzip layers of mixed compressibility, ~1 GiB -------
LAYOUT=$BENCH_DIR/layout
blob() { # file -> "digest size", the file copied into the layout
    local d; d=$(sha256sum "$1" | cut -d' ' -f1)
    cp "$1" "$LAYOUT/blobs/sha256/$d"
    echo "sha256:$d $(stat -c %s "$1")"
}
make_layer() { # name, then a command that fills $dir
    local name=$1; shift
    local dir=$BENCH_DIR/work/$name
    rm -rf "$dir" && mkdir -p "$dir"
    "$@" "$dir"
    tar -C "$dir" -cf "$BENCH_DIR/work/$name.tar" .
    rm -rf "$dir"
    local diff_id size digest
    diff_id=sha256:$(sha256sum "$BENCH_DIR/work/$name.tar" | cut -d' ' -f1)
    gzip -1 -f "$BENCH_DIR/work/$name.tar"
    digest=$(sha256sum "$BENCH_DIR/work/$name.tar.gz" | cut -d' ' -f1)
    size=$(stat -c %s "$BENCH_DIR/work/$name.tar.gz")
    mv "$BENCH_DIR/work/$name.tar.gz" "$LAYOUT/blobs/sha256/$digest"
    echo "$digest $size $diff_id" >>"$BENCH_DIR/work/layers"
}
random_file() { head -c "$2" /dev/urandom >"$1/random.bin"; }
random_320m() { random_file "$1" $((320 << 20)); }
random_256m() { random_file "$1" $((256 << 20)); }
text_file() { seq 1 60000000 >"$1/numbers.txt"; }
small_files() {
    for i in $(seq 1 2000); do head -c 4096 /dev/urandom | base64 >"$1/file-$i.txt"; done
}

if want pull && [ ! -f "$LAYOUT/index.json" ]; then
    echo "== generating the image in $LAYOUT"
    rm -rf "$BENCH_DIR/work" "$LAYOUT" "$BENCH_DIR/storage"
    mkdir -p "$BENCH_DIR/work" "$LAYOUT/blobs/sha256"
    make_layer random-a random_320m
    make_layer random-b random_320m
    make_layer random-c random_256m
    make_layer text text_file
    make_layer small small_files
    jq -n --rawfile l "$BENCH_DIR/work/layers" '{architecture:"amd64", os:"linux",
        config:{Labels:{"sealos.io.type":"rootfs", version:"v1.25.0"}},
        rootfs:{type:"layers", diff_ids:[$l | split("\n")[] | select(. != "") | split(" ")[2]]}}' \
        >"$BENCH_DIR/work/config.json"
    read -r cdigest csize < <(blob "$BENCH_DIR/work/config.json")
    jq -n --rawfile l "$BENCH_DIR/work/layers" --arg cd "$cdigest" --argjson cs "$csize" '{
        schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json",
        config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$cd, size:$cs},
        layers:[$l | split("\n")[] | select(. != "") | split(" ") |
            {mediaType:"application/vnd.oci.image.layer.v1.tar+gzip", digest:("sha256:" + .[0]), size:(.[1] | tonumber)}]}' \
        >"$BENCH_DIR/work/manifest.json"
    read -r mdigest msize < <(blob "$BENCH_DIR/work/manifest.json")
    jq -n --arg md "$mdigest" --argjson ms "$msize" '{schemaVersion:2, manifests:[{
        mediaType:"application/vnd.oci.image.manifest.v1+json", digest:$md, size:$ms,
        annotations:{"org.opencontainers.image.ref.name":"v1"}}]}' >"$LAYOUT/index.json"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$LAYOUT/oci-layout"
    rm -rf "$BENCH_DIR/work"
fi
# The same layers as a plain image (its config without the sealos.io.type
# label): tug stores it without the store-time check, so pulling it is the
# baseline of what that check costs.
ref_digest() { jq -r --arg r "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r) | .digest' "$LAYOUT/index.json"; }
if want pull && [ -z "$(ref_digest plain)" ]; then
    mkdir -p "$BENCH_DIR/work"
    manifest=$LAYOUT/blobs/sha256/$(ref_digest v1 | cut -d: -f2)
    jq 'del(.config.Labels)' "$LAYOUT/blobs/sha256/$(jq -r .config.digest "$manifest" | cut -d: -f2)" >"$BENCH_DIR/work/plain-config.json"
    read -r cdigest csize < <(blob "$BENCH_DIR/work/plain-config.json")
    jq --arg cd "$cdigest" --argjson cs "$csize" '.config.digest = $cd | .config.size = $cs' "$manifest" >"$BENCH_DIR/work/plain-manifest.json"
    read -r mdigest msize < <(blob "$BENCH_DIR/work/plain-manifest.json")
    jq --arg md "$mdigest" --argjson ms "$msize" '.manifests += [{
        mediaType:"application/vnd.oci.image.manifest.v1+json", digest:$md, size:$ms,
        annotations:{"org.opencontainers.image.ref.name":"plain"}}]' "$LAYOUT/index.json" >"$BENCH_DIR/work/index.json"
    mv "$BENCH_DIR/work/index.json" "$LAYOUT/index.json"
    rm -rf "$BENCH_DIR/work"
fi
if want pull; then
    IMAGE_BYTES=$(du -sb "$LAYOUT/blobs" | cut -f1)
    echo "== image: $(jq '.manifests | length' "$LAYOUT/index.json") manifest, $((IMAGE_BYTES >> 20)) MiB of blobs"
fi

# --- a registry on loopback ------------------------------------------------
RUN=$(mktemp -d "${TMPDIR:-/tmp}/tug-bench-XXXXXX")
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; rm -rf "$RUN"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
cat >"$RUN/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $BENCH_DIR/storage
http:
  addr: $ADDR
EOF
docker-registry serve "$RUN/registry.yml" >/dev/null 2>&1 &
REG_PID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://$ADDR/v2/" 2>/dev/null && break
    sleep 0.1
done
if want pull && ! skopeo inspect -n --tls-verify=false "docker://$ADDR/$TAG" >/dev/null 2>&1; then
    echo "== pushing it to $ADDR with skopeo"
    skopeo copy -q --dest-tls-verify=false "oci:$LAYOUT:v1" "docker://$ADDR/$TAG"
fi
PLAIN=${TAG%:*}:plain
if want pull && ! skopeo inspect -n --tls-verify=false "docker://$ADDR/$PLAIN" >/dev/null 2>&1; then
    skopeo copy -q --dest-tls-verify=false "oci:$LAYOUT:plain" "docker://$ADDR/$PLAIN"
fi

# --- pulls -----------------------------------------------------------------
timed() { # outfile, command... ; records "seconds maxrss_kib cpu_seconds"
    local out=$1; shift
    /usr/bin/time -f '%e %M %U %S' -o "$out" "$@" >/dev/null
    awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$out" >"$out.x" && mv "$out.x" "$out"
}
if want pull; then
    best_tug=; best_skopeo=; best_plain=; peak_rss=0
    for round in $(seq 1 "$ROUNDS"); do
        rm -rf "$RUN/skopeo" "$RUN/tug-home"
        timed "$RUN/t-skopeo" skopeo copy -q --src-tls-verify=false "docker://$ADDR/$TAG" "oci:$RUN/skopeo:v1"
        TUG_HOME=$RUN/tug-home timed "$RUN/t-tug" "$TUG" pull --plain "$ADDR/$TAG"
        rm -rf "$RUN/tug-plain"
        TUG_HOME=$RUN/tug-plain timed "$RUN/t-plain" "$TUG" pull --plain "$ADDR/$PLAIN"
        read -r s_sec _ s_cpu <"$RUN/t-skopeo"
        read -r t_sec t_rss t_cpu <"$RUN/t-tug"
        read -r p_sec _ p_cpu <"$RUN/t-plain"
        echo "round $round: skopeo ${s_sec}s (cpu ${s_cpu}s), tug ${t_sec}s (cpu ${t_cpu}s, peak RSS $((t_rss >> 10)) MiB), same layers unchecked ${p_sec}s (cpu ${p_cpu}s)"
        best_plain=$(awk -v a="${best_plain:-1e9}" -v b="$p_sec" 'BEGIN{print (b<a)?b:a}')
        best_tug=$(awk -v a="${best_tug:-1e9}" -v b="$t_sec" 'BEGIN{print (b<a)?b:a}')
        best_skopeo=$(awk -v a="${best_skopeo:-1e9}" -v b="$s_sec" 'BEGIN{print (b<a)?b:a}')
        [ "$t_rss" -gt "$peak_rss" ] && peak_rss=$t_rss
    done
    # Both stores must hold the same manifest.
    expected=$(skopeo inspect --tls-verify=false "docker://$ADDR/$TAG" | jq -r .Digest)
    got=$(skopeo inspect "oci:$RUN/tug-home/data/images:$ADDR/$TAG" | jq -r .Digest)
    [ "$expected" = "$got" ] || { echo "bench: tug stored $got, registry has $expected" >&2; exit 1; }

    echo "best of $ROUNDS: skopeo ${best_skopeo}s, tug ${best_tug}s"
    awk -v t="$best_tug" -v s="$best_skopeo" 'BEGIN{printf "pull ratio tug/skopeo = %.2f\n", t/s}'
    awk -v t="$best_tug" -v p="$best_plain" 'BEGIN{printf "store-time check ratio checked/unchecked = %.2f\n", t/p}'
    echo "tug peak RSS = $((peak_rss >> 10)) MiB"
fi

# --- registry fill: 20 images into a build's registry/ ---------------------
FILL_LAYOUT=$BENCH_DIR/fill-layout
FILL_N=20
fill_image() { # i: a shared 8 MiB layer and an own one of 2-16 MiB
    local i=$1 src=$BENCH_DIR/fill-work
    mkdir -p "$src"
    [ -f "$src/shared.bin" ] || head -c $((8 << 20)) /dev/urandom >"$src/shared.bin"
    head -c $(((2 + (i * 7) % 15) << 20)) /dev/urandom >"$src/own.bin"
    umoci new --image "$FILL_LAYOUT:img-$i"
    umoci insert --image "$FILL_LAYOUT:img-$i" "$src/shared.bin" /shared.bin
    umoci insert --image "$FILL_LAYOUT:img-$i" "$src/own.bin" /own.bin
    umoci config --image "$FILL_LAYOUT:img-$i" --os linux --architecture "$(go_arch)"
}
go_arch() { case $(uname -m) in x86_64) echo amd64 ;; aarch64) echo arm64 ;; *) uname -m ;; esac; }
if want fill; then
    if [ ! -f "$FILL_LAYOUT/index.json" ] || [ "$(jq '.manifests | length' "$FILL_LAYOUT/index.json")" != "$FILL_N" ]; then
        echo "== generating $FILL_N images in $FILL_LAYOUT"
        rm -rf "$FILL_LAYOUT" "$BENCH_DIR/fill-work"
        umoci init --layout "$FILL_LAYOUT"
        for i in $(seq 1 "$FILL_N"); do fill_image "$i"; done
        rm -rf "$BENCH_DIR/fill-work"
    fi
    mkdir -p "$RUN/fill-ctx"
    printf 'FROM scratch\nCOPY imageList manifests\n' >"$RUN/fill-ctx/Kubefile"
    : >"$RUN/fill-ctx/imageList"
    for i in $(seq 1 "$FILL_N"); do
        ref=$ADDR/bench/fill-$i:v1
        echo "$ref" >>"$RUN/fill-ctx/imageList"
        skopeo inspect -n --tls-verify=false "docker://$ref" >/dev/null 2>&1 ||
            skopeo copy -q --dest-tls-verify=false "oci:$FILL_LAYOUT:img-$i" "docker://$ref"
    done
    echo "== fill: $FILL_N images, $(($(du -sb "$FILL_LAYOUT/blobs" | cut -f1) >> 20)) MiB of blobs"
    fill_skopeo() {
        for i in $(seq 1 "$FILL_N"); do
            skopeo copy -q --src-tls-verify=false "docker://$ADDR/bench/fill-$i:v1" "dir:$RUN/fill-skopeo/$i"
        done
    }
    best_tug=; best_skopeo=
    for round in $(seq 1 "$ROUNDS"); do
        rm -rf "$RUN/fill-skopeo" "$RUN/fill-home"
        mkdir -p "$RUN/fill-skopeo"
        export -f fill_skopeo
        export ADDR RUN FILL_N
        timed "$RUN/f-skopeo" bash -c fill_skopeo
        TUG_HOME=$RUN/fill-home timed "$RUN/f-tug" "$TUG" build --plain -t bench/fill:v1 "$RUN/fill-ctx"
        read -r s_sec _ s_cpu <"$RUN/f-skopeo"
        read -r t_sec t_rss t_cpu <"$RUN/f-tug"
        echo "fill round $round: skopeo ${s_sec}s (cpu ${s_cpu}s), tug ${t_sec}s (cpu ${t_cpu}s, peak RSS $((t_rss >> 10)) MiB)"
        best_tug=$(awk -v a="${best_tug:-1e9}" -v b="$t_sec" 'BEGIN{print (b<a)?b:a}')
        best_skopeo=$(awk -v a="${best_skopeo:-1e9}" -v b="$s_sec" 'BEGIN{print (b<a)?b:a}')
    done
    n=$(find "$RUN/fill-home/data/build-cache" -maxdepth 1 -name index.json -exec jq '.manifests | length' {} \;)
    [ "$n" = "$FILL_N" ] || { echo "bench: the build cache holds $n images, not $FILL_N" >&2; exit 1; }
    echo "fill best of $ROUNDS: skopeo ${best_skopeo}s, tug ${best_tug}s"
    awk -v t="$best_tug" -v s="$best_skopeo" 'BEGIN{printf "registry fill ratio tug/skopeo = %.2f\n", t/s}'
fi

# --- unpack (benches/unpack.rs, when present) --------------------------------
if want unpack && [ -f benches/unpack.rs ]; then
    echo "== unpack benchmark"
    TUG_BENCH_DIR=$BENCH_DIR/unpack cargo bench --bench unpack
fi

# --- discovery over 2,000 manifests (benches/discover.rs) -------------------
if want discover; then
    echo "== discovery benchmark"
    cargo bench --quiet --bench discover
fi

# --- tug run on 50 hosts vs 5, an image with a mixed layer (benches/scale.rs)
if want scale; then
    echo "== scale benchmark"
    cargo bench --quiet --bench scale
fi

# --- install over SSH to 4 test hosts (benches/install/) --------------------
if want install; then
    echo "== install benchmark"
    TUG_BENCH_DIR=$BENCH_DIR cargo bench --quiet --bench install
fi
