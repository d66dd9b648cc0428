// Package scan runs a whole-image scan: every layer in parallel through
// scan/layers, the config through scan/history, then the overlay status of
// every file, the Dockerfile step of every layer, and ids and fingerprints
// for every finding.
//
// It is the only package that starts goroutines. It never prints: progress
// is reported as data on a channel (WithProgress), and problems are returned
// in the Result and as errors.
package scan
