//go:build race

package membership

// raceEnabled: the race detector slows code 5-10x, which makes timing
// assertions meaningless.
const raceEnabled = true
