package ssh_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fsm"
	"github.com/gocrm/gocrm/stonith/ssh"
)

func configure(t *testing.T, r ssh.Runner, params map[string]string) (*stonith.Configured, error) {
	t.Helper()
	reg := stonith.NewRegistry()
	if err := ssh.Register(reg, r); err != nil {
		t.Fatal(err)
	}
	return reg.Configure(context.Background(), "ssh1", "ssh", params, 0, nil)
}

func TestSSHArgv(t *testing.T) {
	fr := &ssh.FakeRunner{}
	c, err := configure(t, fr, map[string]string{"hostlist": "n1 n2", "user": "fencer", "identity_file": "/etc/gocrm/fence_key",
		"ssh_port": "2222", "pcmk_host_map": "n2:n2-mgmt"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Device.Fence(ctx, "n2", stonith.ActionReboot); err != nil {
		t.Fatal(err)
	}
	if err := c.Device.Fence(ctx, "n1", stonith.ActionOff); err != nil {
		t.Fatal(err)
	}
	calls := fr.Calls()
	want0 := []string{"/usr/bin/ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5",
		"-p", "2222", "-i", "/etc/gocrm/fence_key", "-l", "fencer", "--", "n2-mgmt", "reboot -f"}
	if len(calls) != 2 || !reflect.DeepEqual(calls[0], want0) || calls[1][len(calls[1])-1] != "poweroff -f" || calls[1][len(calls[1])-2] != "n1" {
		t.Errorf("argv %q", calls)
	}
	if err := c.Device.Fence(ctx, "n1", stonith.ActionOn); !errors.Is(err, stonith.ErrNotSupported) {
		t.Errorf("on: %v", err)
	}
	if l, _ := c.Device.List(ctx); !reflect.DeepEqual(l, []string{"n1", "n2"}) {
		t.Errorf("list %v", l)
	}
}

func TestSSHDisconnectSemantics(t *testing.T) {
	hostUp := true
	fr := &ssh.FakeRunner{Answer: func(argv []string) (int, string, error) {
		switch argv[len(argv)-1] {
		case "true":
			if hostUp {
				return 0, "", nil
			}
			return 255, "ssh: connect to host n1 port 22: No route to host", nil
		case "reboot -f":
			return 255, "Connection closed by remote host", nil
		}
		return 1, "unexpected", nil
	}}
	c, err := configure(t, fr, map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Exit 255 while the host still answers: the command never ran.
	if err := c.Device.Fence(ctx, "n1", stonith.ActionReboot); !errors.Is(err, stonith.ErrFailed) {
		t.Errorf("host still up: %v", err)
	}
	hostUp = false
	if err := c.Device.Fence(ctx, "n1", stonith.ActionReboot); err != nil {
		t.Errorf("dropped connection and host gone: %v", err)
	}
	if st, err := c.Device.Status(ctx, "n1"); st != stonith.PowerUnknown || err == nil {
		t.Errorf("status of unreachable host: %v %v", st, err)
	}
	for _, call := range fr.Calls() {
		if !slices.Contains(call, "BatchMode=yes") {
			t.Errorf("interactive ssh: %q", call)
		}
	}
}

func TestSSHValidation(t *testing.T) {
	for param, v := range map[string]string{"user": "-oProxyCommand=x", "ssh_port": "99999", "identity_file": "key",
		"ssh_binary": "ssh", "connect_timeout": "0", "hostlist": "n1 'n2;reboot'", "bogus": "1"} {
		_, err := configure(t, &ssh.FakeRunner{}, map[string]string{param: v})
		var pe *fsm.ParamError
		if !errors.As(err, &pe) || pe.Param != param {
			t.Errorf("%s=%q: %v", param, v, err)
		}
	}
}
