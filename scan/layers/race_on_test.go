//go:build race

package layers_test

// raceEnabled is true under the race detector, which makes every byte a
// walk moves cost tens of times more: the largest inputs shrink.
const raceEnabled = true
