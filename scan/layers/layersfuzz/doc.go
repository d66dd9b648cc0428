// Package layersfuzz holds the fuzz targets of scan/layers, apart from its
// other tests so that the fuzzing binary links only the walker: coverage
// snapshots of a binary with the whole project in it slow the fuzzer to a
// crawl.
package layersfuzz
