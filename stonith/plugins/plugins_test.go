package plugins_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/external"
	"github.com/gocrm/gocrm/stonith/fake"
	"github.com/gocrm/gocrm/stonith/meatware"
	"github.com/gocrm/gocrm/stonith/plugins"
	"github.com/gocrm/gocrm/stonith/sandbox"
	"github.com/gocrm/gocrm/stonith/ssh"
	"github.com/gocrm/gocrm/stonith/watchdog"
)

func TestNewRegistry(t *testing.T) {
	clock := stonith.NewFakeClock(stonith.RealClock{}.Now())
	reg, err := plugins.NewRegistry(plugins.Deps{
		External: external.Options{Dirs: []string{t.TempDir()}},
		SSH:      &ssh.FakeRunner{},
		Watchdog: &watchdog.Deps{Node: "n1", Opener: watchdog.NewFakeOpener(clock), Clock: clock},
		Meatware: meatware.NewHub(nil, nil),
		Sandbox:  sandbox.NewFakeKiller("n1"),
		Fake:     fake.NewLab(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reg.Types(), []string{"fake", "meatware", "sandbox", "ssh", "watchdog"}; !reflect.DeepEqual(got, want) {
		t.Errorf("types %v want %v", got, want)
	}
	if _, err := reg.Lookup("fence_ipmilan"); err != nil {
		t.Errorf("fence_* resolver missing: %v", err)
	}
	if _, err := reg.Configure(context.Background(), "x", "fence_ipmilan", nil, 0, nil); !errors.Is(err, stonith.ErrNotInstalled) {
		t.Errorf("agent outside the configured dirs: %v", err)
	}
	if _, err := reg.Lookup("stonith:nope"); !errors.Is(err, stonith.ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	minimal, err := plugins.NewRegistry(plugins.Deps{})
	if err != nil || len(minimal.Types()) != 0 {
		t.Errorf("minimal registry %v %v", minimal.Types(), err)
	}
}
