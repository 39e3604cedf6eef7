package lvsrs

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind:
// background announcements and checker loops must end with their owner.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
