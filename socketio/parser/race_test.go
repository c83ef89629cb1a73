//go:build race

package parser_test

// raceEnabled reports whether the race detector is on: it makes sync.Pool
// drop items at random, so allocation counts are not exact (make test
// runs the Allocs tests once more without it).
const raceEnabled = true
