package meatware_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/meatware"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMeatwareConfirm(t *testing.T) {
	notified := make(chan string, 4)
	hub := meatware.NewHub(func(n string) { notified <- n }, nil)
	reg := stonith.NewRegistry()
	if err := meatware.Register(reg, hub); err != nil {
		t.Fatal(err)
	}
	c, err := reg.Configure(context.Background(), "meat", "meatware", map[string]string{"pcmk_host_list": "n1 n2"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Confirm("n1"); !errors.Is(err, meatware.ErrNotPending) {
		t.Errorf("confirm without waiter: %v", err)
	}
	res := make(chan error, 1)
	go func() { res <- c.Device.Fence(context.Background(), "n1", stonith.ActionReboot) }()
	if n := <-notified; n != "n1" {
		t.Errorf("notified %s", n)
	}
	select {
	case err := <-res:
		t.Fatalf("fence returned before confirmation: %v", err)
	case <-time.After(30 * time.Millisecond):
	}
	if got := hub.Pending(); !reflect.DeepEqual(got, []string{"n1"}) {
		t.Errorf("pending %v", got)
	}
	if err := hub.Confirm("n2"); !errors.Is(err, meatware.ErrNotPending) {
		t.Errorf("confirming the wrong node: %v", err)
	}
	if err := hub.Confirm("n1"); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Errorf("fence after confirm: %v", err)
	}
	if len(hub.Pending()) != 0 {
		t.Errorf("still pending: %v", hub.Pending())
	}
}

func TestMeatwareTimeout(t *testing.T) {
	hub := meatware.NewHub(nil, nil)
	reg := stonith.NewRegistry()
	_ = meatware.Register(reg, hub)
	c, err := reg.Configure(context.Background(), "meat", "meatware", nil, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.Device.Fence(ctx, "n1", stonith.ActionOff); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unconfirmed fence: %v", err)
	}
	if len(hub.Pending()) != 0 {
		t.Errorf("timed-out waiter left behind: %v", hub.Pending())
	}
	if err := c.Device.Fence(ctx, "n1", stonith.ActionOn); !errors.Is(err, stonith.ErrNotSupported) {
		t.Errorf("on: %v", err)
	}
}
