package shell

import (
	"context"
	"testing"
)

// FuzzCompleteAndSplit checks that arbitrary typed text never panics the
// word splitter or the completer, at the top and configure levels.
func FuzzCompleteAndSplit(f *testing.F) {
	for _, s := range []string{"", "conf", "primitive p IPaddr2 params ", `show "a b`, "location l vip 100: ", "cd ../", "a\\", "cib use "} {
		f.Add(s)
	}
	h := newHarnessF(f)
	f.Fuzz(func(t *testing.T, line string) {
		_, _ = SplitWords(line)
		_ = h.sh.Complete(context.Background(), line)
		_ = h.sh.Complete(context.Background(), "configure "+line)
	})
}
