package dataplane

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine a Dataplane starts ends before Run returns, except the
// timerfd readers of superseded timers (SystemClock.After), which end when
// their timer fires.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/gocrm/gocrm/agents/vrrp/dataplane.preciseAfter.func1"))
}
