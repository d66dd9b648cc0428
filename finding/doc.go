// Package finding holds imagescan's finding model: what a secret is, where
// it was exposed in an image, and the Detector interface that finds it.
//
// Every other package speaks in these types. The package has no behaviour
// beyond the rules that belong to the values themselves (redaction, ids,
// fingerprints), so it sits at the bottom of the import graph: scan/layers,
// scan/history, scan/secrets, scan and report all import it, and it imports
// none of them.
//
// A Secret never prints its raw value through fmt, encoding/json or
// encoding/text; the raw value is only reachable through Secret.Raw, which
// reporters call when the user asked for --show-secrets.
package finding
