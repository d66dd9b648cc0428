//go:build tools

// Package trufflehog pins the TruffleHog release bench/run.sh compares
// imagescan with; `go build github.com/trufflesecurity/trufflehog/v3`
// in this directory builds it. It is a module of its own, so that its
// dependencies stay out of imagescan's.
package trufflehog

import _ "github.com/trufflesecurity/trufflehog/v3"
