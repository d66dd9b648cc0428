// Package reportfuzz holds the report writers' fuzz target, apart from the
// report tests so that the fuzzing binary stays small (see layersfuzz).
package reportfuzz
