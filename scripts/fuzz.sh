#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 20s each). A crash
# leaves its input in the package's testdata/fuzz, where it becomes a
# regression seed that every `go test` replays.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-20s}
tags=${FUZZ_TAGS:-gore2regex,re2_cgo,vectorscan} # the README's fast build
targets=(
	"./scan/history FuzzParse"
	"./scan/history FuzzConfigStrings"
	"./scan/secrets FuzzCredentialFiles"
	"./scan/secrets FuzzEngine"
	"./scan/secrets FuzzPrefilter"
	"./scan/layers FuzzStrings"
	"./scan/layers FuzzGitObjects"
	"./scan/layers/layersfuzz FuzzWalk"
	"./scan/layers/layersfuzz FuzzResolve"
	"./report/reportfuzz FuzzReport"
)
# fuzz PKG TARGET: one bounded run. Go's fuzzing coordinator sometimes
# ends a run with "context deadline exceeded" when the time runs out while
# a worker is busy, without any failing input; that run is tried once
# more. A real failure writes its input to testdata/fuzz and fails both.
fuzz() {
	local out
	out=$(mktemp)
	if go test -tags "$tags" -run '^$' -fuzz "^$2\$" -fuzztime "$time" "$1" 2>&1 | tee "$out"; then
		rm -f "$out"
		return 0
	fi
	if grep -q "context deadline exceeded" "$out" && ! grep -q "Failing input written" "$out"; then
		rm -f "$out"
		echo "fuzz $2: the coordinator timed out with no failing input; once more"
		go test -tags "$tags" -run '^$' -fuzz "^$2\$" -fuzztime "$time" "$1"
		return
	fi
	rm -f "$out"
	return 1
}
for t in "${targets[@]}"; do
	set -- $t
	echo "fuzz $2 ($1) for $time"
	fuzz "$1" "$2"
done
