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
	"./scan/secrets FuzzCredentialFiles"
	"./scan/secrets FuzzEngine"
	"./scan/secrets FuzzPrefilter"
	"./scan/layers/layersfuzz FuzzWalk"
	"./scan/layers/layersfuzz FuzzResolve"
	"./report/reportfuzz FuzzReport"
)
for t in "${targets[@]}"; do
	set -- $t
	echo "fuzz $2 ($1) for $time"
	go test -tags "$tags" -run '^$' -fuzz "^$2\$" -fuzztime "$time" "$1"
done
