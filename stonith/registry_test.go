package stonith_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/gocrm/gocrm/stonith"
	"github.com/gocrm/gocrm/stonith/fake"
	"github.com/gocrm/gocrm/stonith/fsm"
)

const secret = "Tr0ub4dor&3-secret"

// leaky is a test plugin whose errors include its password, like a
// careless fence agent echoing its command line.
func leakyPlugin() stonith.Plugin {
	return stonith.Plugin{
		Type:   "leaky",
		Strict: true,
		MetaData: func(context.Context, string) (stonith.MetaData, error) {
			return stonith.MetaData{Name: "leaky", Params: []stonith.ParamSpec{
				{Name: "ipaddr", Required: true}, {Name: "login"}, {Name: "password"}, {Name: "api_blob", Secret: true}, {Name: "fail_new"},
			}}, nil
		},
		New: func(_ context.Context, cfg stonith.Config) (stonith.Device, error) {
			if cfg.Params.Get("fail_new") != "" {
				return nil, fmt.Errorf("cannot log in to %s as %s/%s", cfg.Params.Get("ipaddr"), cfg.Params.Get("login"), cfg.Params.Get("password"))
			}
			d := fake.New(cfg.ID, "n1")
			return leakyDevice{Device: d, pw: cfg.Params.Get("password"), blob: cfg.Params.Get("api_blob")}, nil
		},
	}
}

type leakyDevice struct {
	*fake.Device
	pw, blob string
}

func (l leakyDevice) Fence(ctx context.Context, target string, a stonith.Action) error {
	return fmt.Errorf("ipmitool -P %s -k %s chassis power %s %s: %w", l.pw, l.blob, a, target, stonith.ErrFailed)
}

func newRegistry(t *testing.T) (*stonith.Registry, *fake.Lab) {
	t.Helper()
	reg := stonith.NewRegistry()
	lab := fake.NewLab()
	if err := fake.Register(reg, lab); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(leakyPlugin()); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(leakyPlugin()); err == nil {
		t.Error("duplicate registration accepted")
	}
	return reg, lab
}

func TestConfigureValidation(t *testing.T) {
	reg, _ := newRegistry(t)
	ctx := context.Background()
	if _, err := reg.Configure(ctx, "x", "nosuch", nil, 0, nil); !errors.Is(err, stonith.ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	for name, tc := range map[string]struct {
		typ    string
		params map[string]string
		param  string
	}{
		"missing required": {"leaky", map[string]string{"login": "admin"}, "ipaddr"},
		"empty required":   {"leaky", map[string]string{"ipaddr": " "}, "ipaddr"},
		"unknown param":    {"leaky", map[string]string{"ipaddr": "a", "ipadr": "b"}, "ipadr"},
		"bad host map":     {"fake", map[string]string{"pcmk_host_map": "n1=1;n2"}, "pcmk_host_map"},
		"bad delay base":   {"fake", map[string]string{"pcmk_delay_base": "n1:5s;n2:later"}, "pcmk_delay_base"},
		"bad delay max":    {"fake", map[string]string{"pcmk_delay_max": "ten"}, "pcmk_delay_max"},
		"bad plugin param": {"fake", map[string]string{"delay": "ten"}, "delay"},
	} {
		_, err := reg.Configure(ctx, "dev-"+strings.ReplaceAll(name, " ", "-"), tc.typ, tc.params, 0, nil)
		var pe *fsm.ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param || !errors.Is(err, stonith.ErrInvalidParam) {
			t.Errorf("%s: got %v, want a ParamError naming %s", name, err, tc.param)
			continue
		}
		if !strings.Contains(err.Error(), tc.param) {
			t.Errorf("%s: %q does not name %s", name, err, tc.param)
		}
	}
	c, err := reg.Configure(ctx, "f1", "stonith:fake", map[string]string{"hosts": "n1,n2", "pcmk_host_list": "n1"}, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Spec.Priority != 5 || c.Spec.HostCheck != fsm.CheckStaticList || c.Type != "fake" {
		t.Errorf("configured spec %+v", c.Spec)
	}
	if _, ok := c.Params.Lookup("pcmk_host_list"); ok {
		t.Error("pcmk_* parameters must not reach the device")
	}
}

func TestSecretsNeverShown(t *testing.T) {
	reg, _ := newRegistry(t)
	ctx := context.Background()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// Configure error from New that quotes the password.
	_, err := reg.Configure(ctx, "bad", "leaky", map[string]string{"ipaddr": "10.0.0.9", "login": "admin", "password": secret, "fail_new": "1"}, 0, logger)
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), stonith.Mask) {
		t.Errorf("configure error leaks or is not masked: %v", err)
	}

	c, err := reg.Configure(ctx, "ipmi", "leaky", map[string]string{"ipaddr": "10.0.0.9", "login": "admin", "password": secret, "api_blob": "blobvalue42"}, 0, logger)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{c.String(), c.Params.String(), fmt.Sprint(c.Params), fmt.Sprintf("%+v", c.Params)} {
		if strings.Contains(s, secret) || strings.Contains(s, "blobvalue42") {
			t.Errorf("secret shown: %s", s)
		}
	}
	if !strings.Contains(c.String(), "ipaddr=10.0.0.9") || !strings.Contains(c.String(), "password="+stonith.Mask) {
		t.Errorf("String lost the non-secret parts: %s", c)
	}
	logger.Info("configured", "device", c, "params", c.Params)

	err = c.Device.Fence(ctx, "n1", stonith.ActionOff)
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "blobvalue42") {
		t.Errorf("device error leaks: %v", err)
	}
	if !errors.Is(err, stonith.ErrFailed) {
		t.Errorf("masking lost the sentinel: %v", err)
	}

	// Through the executor: record, logs and returned error.
	ex, err := stonith.NewExecutor(stonith.ExecutorConfig{Node: "n2", Devices: []*stonith.Configured{c}, Logger: logger,
		Options: fsm.Options{Action: fsm.ActionReboot, Timeout: fsmSecond, MaxAttempts: 1, Concurrent: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	rec, err := ex.Fence(ctx, fsm.Request{Target: "n1"})
	if !errors.Is(err, stonith.ErrFenceFailed) {
		t.Fatalf("fence: %v", err)
	}
	b, _ := rec.Marshal()
	for what, s := range map[string]string{"error": err.Error(), "record": string(b), "record string": rec.String(), "logs": logs.String()} {
		if strings.Contains(s, secret) || strings.Contains(s, "blobvalue42") {
			t.Errorf("%s leaks a secret: %s", what, s)
		}
	}
	if !strings.Contains(logs.String(), stonith.Mask) || !strings.Contains(logs.String(), "fencing step failed") {
		t.Errorf("logs do not show the masked failure: %s", logs.String())
	}
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{"passwd": true, "password": true, "snmp_priv_passwd": true, "community": true,
		"key": true, "ssh_key": true, "api_token": true, "passwd_script": false, "identity_file": false, "ipaddr": false, "login": false, "keytype": false} {
		if stonith.IsSecretName(name) != want {
			t.Errorf("IsSecretName(%s) != %v", name, want)
		}
	}
	p := stonith.NewParams(map[string]string{"password": "abc", "passwd": "abcdef", "user": "u"})
	if got := p.Redact("x abcdef y abc z"); got != "x ****** y ****** z" {
		t.Errorf("Redact: %q", got)
	}
}
