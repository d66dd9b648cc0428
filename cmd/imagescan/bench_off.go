//go:build !imagescan_bench

package main

// benchBuild is false in shipped builds: they have no --no-detect flag
// (see bench_on.go).
const benchBuild = false
