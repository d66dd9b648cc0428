#!/usr/bin/env bash
# The benchmark: runs imagescan on a bundled fixture (start-up included)
# and on the realistic images, and once more on the realistic image with
# --no-detect, the floor: the same reading, decompressing and walking,
# with nothing detected (a flag only the benchmark's build, -tags
# imagescan_bench, has); then a second scan with the layer cache warm,
# and a scan of the image rebuilt (bench/rebuild.py: the same files in
# new layers) with the cache the first scan left.
# Three builds are measured: "fast", the README's (-tags
# gore2regex,re2_cgo,vectorscan: RE2 through cgo and the Vectorscan
# prefilter; Debian's libre2-dev and libvectorscan-dev), "cgo" (RE2
# through cgo, the keyword index), and "purego" (CGO_ENABLED=0: RE2
# compiled to WebAssembly, no system library). Each is built with
# imagescan_bench, which adds the hidden --no-detect.
# Last, TruffleHog v3.90.0 (built from bench/trufflehog/, a module of its
# own) scans the realistic image, verification off, for the ratio the
# engine's target is set in: the two runs nearest in time are compared.
# Then the registry sweep's benchmark (cmd/imagescan BenchmarkSweep*).
# Prints Markdown tables of wall and CPU time, peak RSS, and the text
# scanned per second.
#
# The realistic images are built first when missing (bench/realistic/
# build.sh: root, debootstrap, npm, network), and libre2-dev is installed
# when missing. Usage: bench/run.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-bench/out}")
mkdir -p "$out"
[ -f "$out/realistic.tar" ] && [ -f "$out/realistic-2x.tar" ] || bench/realistic/build.sh "$out" >&2
dpkg -s libre2-dev libvectorscan-dev pkg-config >/dev/null 2>&1 ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pkg-config libre2-dev libvectorscan-dev >&2
go build -tags gore2regex,re2_cgo,vectorscan,imagescan_bench -o "$out/imagescan-fast" ./cmd/imagescan
go build -tags gore2regex,re2_cgo,imagescan_bench -o "$out/imagescan-cgo" ./cmd/imagescan
CGO_ENABLED=0 go build -tags gore2regex,imagescan_bench -o "$out/imagescan-purego" ./cmd/imagescan
[ -x "$out/trufflehog" ] || (cd bench/trufflehog && go build -o "$out/trufflehog" github.com/trufflesecurity/trufflehog/v3)
# The fast build compiles its rule database once, into the user cache.
"$out/imagescan-fast" version >/dev/null

# measure BUILD LABEL IMAGE [FLAGS…]: one row of the table. The layer
# cache is off unless FLAGS name one.
measure() {
	local build=$1 label="$2 ($1)" image=$3
	shift 3
	[[ " $* " == *" --cache-dir "* ]] || set -- --no-cache "$@"
	/usr/bin/time -f '%e %U %S %M' -o "$out/time.txt" \
		"$out/imagescan-$build" scan -q -f json "$@" "$image" >"$out/report.json" || true
	python3 - "$label" "$image" "$out/time.txt" "$out/report.json" <<'PY'
import json, os, sys
label, image, timef, reportf = sys.argv[1:]
wall, user, sys_, rss = open(timef).read().split()[-4:]
wall, cpu, rss = float(wall), float(user) + float(sys_), int(rss) / 1024
cov = json.load(open(reportf))["images"][0]["coverage"]
mb = cov["bytes"] / 1e6
size = os.path.getsize(image) / 1e6
print(f"| {label} | {os.path.basename(image)} ({size:.0f} MB) | {wall:.2f} | {cpu:.1f} | {rss:.0f} | {mb:.0f} | {cov['files']} | {mb / wall:.1f} | {cov['files'] / wall:.0f} |")
PY
}

echo "| run | image | wall s | CPU s | peak RSS MB | text MB | files | MB/s | files/s |"
echo "|---|---|---|---|---|---|---|---|---|"
for build in fast cgo purego; do
	measure $build "small image, start-up included" fixtures/npm-deleted/image.tar
	measure $build "all rules" "$out/realistic.tar"
	measure $build "all rules" "$out/realistic-2x.tar"
done
measure fast "binaries by their path alone (--skip-binaries)" "$out/realistic.tar" --skip-binaries
measure fast "floor (--no-detect)" "$out/realistic.tar" --no-detect
rm -rf "$out/cache"
"$out/imagescan-fast" scan -q --cache-dir "$out/cache" "$out/realistic.tar" >/dev/null || true
measure fast "second scan, layer cache warm" "$out/realistic.tar" --cache-dir "$out/cache"
# The same files in new layers, as a rebuild without a build cache makes
# them: only the contents the layer cache keeps spare their scan.
[ -f "$out/realistic-rebuilt.tar" ] || python3 bench/rebuild.py "$out/realistic.tar" "$out/realistic-rebuilt.tar"
cp "$out/cache/layers.db" "$out/layers-warm.db"
measure fast "rebuilt image, layer cache warm from the original" "$out/realistic-rebuilt.tar" --cache-dir "$out/cache"
mv "$out/layers-warm.db" "$out/cache/layers.db"

# The comparison: imagescan's fast build and TruffleHog, one after the
# other, on the realistic image.
/usr/bin/time -f '%e %U %S %M' -o "$out/time-is.txt" \
	"$out/imagescan-fast" scan -q -f json --no-cache "$out/realistic.tar" >"$out/report.json" || true
/usr/bin/time -f '%e %U %S %M' -o "$out/time-th.txt" \
	"$out/trufflehog" docker --image "file://$out/realistic.tar" --no-verification --json --no-update >"$out/trufflehog.json" 2>/dev/null || true
python3 - "$out/time-is.txt" "$out/time-th.txt" "$out/trufflehog.json" <<'PY'
import sys
def row(path):
    wall, user, sys_, rss = open(path).read().split()[-4:]
    return float(wall), float(user) + float(sys_), int(rss) / 1024
iw, ic, ir = row(sys.argv[1])
tw, tc, tr = row(sys.argv[2])
found = sum(1 for line in open(sys.argv[3]) if line.strip())
print()
print("| scanner, realistic.tar | wall s | CPU s | peak RSS MB |")
print("|---|---|---|---|")
print(f"| imagescan (fast) | {iw:.2f} | {ic:.1f} | {ir:.0f} |")
print(f"| TruffleHog v3.90.0, --no-verification ({found} results) | {tw:.2f} | {tc:.1f} | {tr:.0f} |")
print(f"\nimagescan is {tw / iw:.1f}x faster (wall) and uses {tc / ic:.1f}x less CPU")
PY

# The registry sweep (issue 14): the test fleet of 202 images in 41
# repositories on docker-registry, cold and with the Redis cache warm, and
# the peak RSS of sweeps of 250 and 1,000 images, which must stay flat,
# with the size of their HTML reports and the time chromium takes to open
# them.
# Needs docker-registry and redis-server (apt), as the tests do.
echo
echo "| sweep | images/s | distinct layers/s | sweep CPU s | peak RSS MB | HTML report MB | HTML open s |"
echo "|---|---|---|---|---|---|---|"
go test -tags gore2regex,re2_cgo,vectorscan -run '^$' -bench 'Sweep' -benchtime 1x ./cmd/imagescan 2>/dev/null |
	awk '/^BenchmarkSweep/ {
		name = $1; sub(/^BenchmarkSweep(Memory)?\//, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i += 2) v[$(i + 1)] = $i
		printf "| %s | %s | %s | %s | %s | %s | %s |\n", name, v["images/s"], v["layers/s"], v["sweep-CPU-s"], v["peak-RSS-MB"], v["html-MB"], v["html-open-s"]
		delete v
	}'
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(go version | cut -d' ' -f3)"
