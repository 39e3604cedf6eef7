package lrm

import (
	"time"

	"github.com/gocrm/gocrm/internal/clock"
)

// Clock is the time source of the LRM: it timestamps results and arms the
// timers between recurring monitor runs. Action timeouts use context
// deadlines (wall-clock time) because they bound real processes.
type Clock = clock.Clock

// Timer is a one-shot timer created by a Clock.
type Timer = clock.Timer

// RealClock is the system clock.
type RealClock = clock.Real

// FakeClock is a manually advanced Clock for tests (clock.Fake).
type FakeClock = clock.Fake

// NewFakeClock returns a FakeClock set to start.
func NewFakeClock(start time.Time) *FakeClock { return clock.NewFake(start) }
