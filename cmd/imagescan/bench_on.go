//go:build imagescan_bench

package main

// benchBuild is true in the benchmark's build (-tags imagescan_bench),
// which has the --no-detect flag: a scan that reads everything and looks
// for nothing, the benchmark's floor. Shipped builds do not have it, so
// that no report of theirs can look clean for want of detection.
const benchBuild = true
