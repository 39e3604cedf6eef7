package fsm

import (
	"bufio"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The data-driven tests in testdata/*.txt drive one Instance through a
// simulated host that fires the instance's timer exactly at its deadline.
//
//	config key=value ...          (before the first "at")
//	at SECONDS EVENT              fire due timers up to SECONDS, then apply EVENT
//	expect CONDITION              check the actions of the last "at" / the state
//
// Events: start | stop | tick | recv prio=N src=IP [int=DURATION]
// | link IF up|down | script NAME ok|fail | file NAME VALUE.
// Conditions: state=S [since=SECONDS] | priority=N | send [prio=N] | sends N
// | garp N | addvips | removevips | notify STATE | actions K,K,... | nothing
// | timer SECONDS|none | mdi SECONDS | skew SECONDS; "no X" negates
// send/garp/addvips/removevips/notify.

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// tb is the part of testing.TB the harness uses (a fake in
// TestScriptHarnessCatchesMistakes).
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

type harness struct {
	t     tb
	pos   string
	cfg   Config
	inst  *Instance
	timer time.Time
	now   time.Time
	last  []Action
	log   []string
}

func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	tail := h.log
	if len(tail) > 25 {
		tail = tail[len(tail)-25:]
	}
	h.t.Fatalf("%s: %s\nrecent steps:\n  %s", h.pos, fmt.Sprintf(format, args...), strings.Join(tail, "\n  "))
}

func parseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(math.Round(f * 1e9)), nil
}

func rel(t time.Time) string { return fmt.Sprintf("%.6f", t.Sub(epoch).Seconds()) }

func kv(tok string) (string, string) {
	k, v, _ := strings.Cut(tok, "=")
	return k, v
}

func (h *harness) config(toks []string) {
	h.t.Helper()
	for _, tok := range toks {
		k, v := kv(tok)
		var err error
		atoi := func() int {
			n, e := strconv.Atoi(v)
			if e != nil {
				err = e
			}
			return n
		}
		dur := func() time.Duration {
			d, e := time.ParseDuration(v)
			if e != nil {
				err = e
			}
			return d
		}
		c := &h.cfg
		switch k {
		case "name":
			c.Name = v
		case "version":
			c.Version = uint8(atoi())
		case "vrid":
			c.VRID = uint8(atoi())
		case "prio":
			c.Priority = uint8(atoi())
		case "interval":
			c.AdvertInterval = dur()
		case "src":
			c.PrimaryAddr, err = netip.ParseAddr(v)
		case "state":
			c.InitialMaster = strings.EqualFold(v, "MASTER")
		case "nopreempt":
			c.NoPreempt = true
		case "preempt_delay":
			c.PreemptDelay = dur()
		case "down_adverts":
			c.DownTimerAdverts = atoi()
		case "garp_delay":
			c.GARP.MasterDelay = dur()
		case "garp_repeat":
			c.GARP.MasterRepeat = atoi()
		case "garp_refresh":
			c.GARP.MasterRefresh = dur()
		case "garp_lower_delay":
			c.GARP.LowerPrioDelay = dur()
		case "garp_lower_repeat":
			c.GARP.LowerPrioRepeat = atoi()
		case "lower_prio_no_advert":
			c.LowerPrioNoAdvert = true
		case "no_higher_prio_send_advert":
			c.NoHigherPrioSendAdvert = true
		case "track_interface": // NAME[:WEIGHT[:reverse]]
			f := strings.Split(v, ":")
			ti := TrackInterface{Name: f[0]}
			if len(f) > 1 {
				ti.Weight, err = strconv.Atoi(f[1])
			}
			ti.Reverse = len(f) > 2 && f[2] == "reverse"
			c.TrackInterfaces = append(c.TrackInterfaces, ti)
		case "track_script": // NAME:WEIGHT:RISE:FALL[:init_fail][:reverse]
			f := strings.Split(v, ":")
			if len(f) < 4 {
				h.fatalf("track_script needs NAME:WEIGHT:RISE:FALL")
			}
			ts := TrackScript{Name: f[0]}
			ts.Weight, _ = strconv.Atoi(f[1])
			ts.Rise, _ = strconv.Atoi(f[2])
			ts.Fall, _ = strconv.Atoi(f[3])
			for _, x := range f[4:] {
				ts.InitFail = ts.InitFail || x == "init_fail"
				ts.Reverse = ts.Reverse || x == "reverse"
			}
			c.TrackScripts = append(c.TrackScripts, ts)
		case "track_file": // NAME:WEIGHT[:reverse]
			f := strings.Split(v, ":")
			tf := TrackFile{Name: f[0], WeightSet: true}
			if len(f) > 1 {
				tf.Weight, err = strconv.Atoi(f[1])
			} else {
				tf.WeightSet = false
			}
			tf.Reverse = len(f) > 2 && f[2] == "reverse"
			c.TrackFiles = append(c.TrackFiles, tf)
		default:
			h.fatalf("unknown config key %q", k)
		}
		if err != nil {
			h.fatalf("config %s: %v", tok, err)
		}
	}
}

func (h *harness) step(ev Event) {
	acts := h.inst.Step(ev)
	for _, a := range acts {
		if a.Kind == SetTimer {
			h.timer = a.At
		}
	}
	h.last = append(h.last, acts...)
	h.log = append(h.log, fmt.Sprintf("%s %T -> %v [%v prio=%d]", rel(ev.When()), ev, acts, h.inst.State(), h.inst.Priority()))
}

func (h *harness) at(toks []string) {
	h.t.Helper()
	if len(toks) < 2 {
		h.fatalf("usage: at SECONDS EVENT ...")
	}
	d, err := parseSeconds(toks[0])
	if err != nil {
		h.fatalf("time %q: %v", toks[0], err)
	}
	t := epoch.Add(d)
	if t.Before(h.now) {
		h.fatalf("time goes backwards: %s < %s", rel(t), rel(h.now))
	}
	if h.inst == nil {
		if h.inst, err = New(h.cfg); err != nil {
			h.fatalf("New: %v", err)
		}
	}
	h.last = nil
	for n := 0; !h.timer.IsZero() && !h.timer.After(t); n++ {
		if n > 100000 {
			h.fatalf("timer loop")
		}
		h.now = h.timer
		h.step(TimerExpired{At: h.timer})
	}
	h.now = t
	ev, args := toks[1], toks[2:]
	switch ev {
	case "tick":
	case "start":
		h.step(Start{At: t})
	case "stop":
		h.step(Shutdown{At: t})
	case "recv":
		a := AdvertReceived{At: t, Interval: h.inst.Config().AdvertInterval}
		for _, tok := range args {
			k, v := kv(tok)
			switch k {
			case "prio":
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 255 {
					h.fatalf("prio %q", v)
				}
				a.Priority = uint8(n)
			case "src":
				if a.Src, err = netip.ParseAddr(v); err != nil {
					h.fatalf("src: %v", err)
				}
			case "int":
				if a.Interval, err = time.ParseDuration(v); err != nil {
					h.fatalf("int: %v", err)
				}
			default:
				h.fatalf("recv: unknown %q", k)
			}
		}
		h.step(a)
	case "link":
		if len(args) != 2 {
			h.fatalf("usage: link IF up|down")
		}
		h.step(InterfaceChanged{At: t, Name: args[0], Up: args[1] == "up"})
	case "script":
		if len(args) != 2 {
			h.fatalf("usage: script NAME ok|fail")
		}
		h.step(ScriptResult{At: t, Name: args[0], OK: args[1] == "ok"})
	case "file":
		if len(args) != 2 {
			h.fatalf("usage: file NAME VALUE")
		}
		v, err := strconv.Atoi(args[1])
		if err != nil {
			h.fatalf("file value: %v", err)
		}
		h.step(FileValue{At: t, Name: args[0], Value: v})
	default:
		h.fatalf("unknown event %q", ev)
	}
}

func (h *harness) find(kind ActionKind, match func(Action) bool) int {
	n := 0
	for _, a := range h.last {
		if a.Kind == kind && (match == nil || match(a)) {
			n++
		}
	}
	return n
}

func (h *harness) expect(toks []string) {
	h.t.Helper()
	if h.inst == nil {
		h.fatalf("expect before the first at")
	}
	neg := false
	if toks[0] == "no" {
		neg, toks = true, toks[1:]
	}
	present := func(what string, n int) {
		h.t.Helper()
		if neg && n > 0 {
			h.fatalf("unexpected %s in %v", what, h.last)
		}
		if !neg && n == 0 {
			h.fatalf("no %s in %v", what, h.last)
		}
	}
	k, v := kv(toks[0])
	switch k {
	case "state":
		want, err := ParseState(v)
		if err != nil {
			h.fatalf("%v", err)
		}
		if got := h.inst.State(); got != want {
			h.fatalf("state %v, want %v", got, want)
		}
		if len(toks) > 1 {
			_, s := kv(toks[1])
			d, err := parseSeconds(s)
			if err != nil {
				h.fatalf("since: %v", err)
			}
			if got := h.inst.Since(); !got.Equal(epoch.Add(d)) {
				h.fatalf("in %v since %s, want %s", want, rel(got), s)
			}
		}
	case "priority":
		if got := strconv.Itoa(int(h.inst.Priority())); got != v {
			h.fatalf("priority %s, want %s", got, v)
		}
	case "send":
		var match func(Action) bool
		what := "SendAdvert"
		if len(toks) > 1 {
			_, p := kv(toks[1])
			what += "(prio=" + p + ")"
			match = func(a Action) bool { return strconv.Itoa(int(a.Priority)) == p }
		}
		present(what, h.find(SendAdvert, match))
	case "sends":
		if got := strconv.Itoa(h.find(SendAdvert, nil)); got != toks[1] {
			h.fatalf("%s adverts sent, want %s: %v", got, toks[1], h.last)
		}
	case "garp":
		if neg {
			present("SendGARP", h.find(SendGARP, nil))
			return
		}
		present("SendGARP("+toks[1]+")", h.find(SendGARP, func(a Action) bool { return strconv.Itoa(a.Count) == toks[1] }))
	case "addvips":
		present("AddVIPs", h.find(AddVIPs, nil))
	case "removevips":
		present("RemoveVIPs", h.find(RemoveVIPs, nil))
	case "notify":
		if neg {
			present("Notify", h.find(Notify, nil))
			return
		}
		want, err := ParseState(toks[1])
		if err != nil {
			h.fatalf("%v", err)
		}
		present("Notify("+want.String()+")", h.find(Notify, func(a Action) bool { return a.State == want }))
	case "actions", "nothing":
		var got []string
		for _, a := range h.last {
			if a.Kind != SetTimer {
				got = append(got, a.Kind.String())
			}
		}
		want := ""
		if k == "actions" {
			want = toks[1]
		}
		if strings.Join(got, ",") != want {
			h.fatalf("actions %q, want %q", strings.Join(got, ","), want)
		}
	case "timer":
		got := h.inst.Deadline()
		if toks[1] == "none" {
			if !got.IsZero() {
				h.fatalf("timer at %s, want none", rel(got))
			}
			return
		}
		d, err := parseSeconds(toks[1])
		if err != nil {
			h.fatalf("timer: %v", err)
		}
		if !got.Equal(epoch.Add(d)) {
			h.fatalf("timer at %s, want %s", rel(got), toks[1])
		}
	case "mdi", "skew":
		d, err := parseSeconds(toks[1])
		if err != nil {
			h.fatalf("%s: %v", k, err)
		}
		got := h.inst.MasterDownInterval()
		if k == "skew" {
			got = h.inst.SkewTime()
		}
		if got != d {
			h.fatalf("%s %v, want %v", k, got, d)
		}
	default:
		h.fatalf("unknown expectation %q", k)
	}
}

func runScript(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	runScriptText(t, filepath.Base(path), string(b))
}

func runScriptText(t tb, name, text string) {
	h := &harness{t: t}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		toks := strings.Fields(line)
		if len(toks) == 0 {
			continue
		}
		h.pos = fmt.Sprintf("%s:%d", name, n)
		switch toks[0] {
		case "config":
			if h.inst != nil {
				h.fatalf("config after the first at")
			}
			h.config(toks[1:])
		case "at":
			h.at(toks[1:])
		case "expect":
			if len(toks) < 2 {
				h.fatalf("empty expect")
			}
			h.expect(toks[1:])
		default:
			h.fatalf("unknown command %q", toks[0])
		}
	}
	if h.inst == nil {
		t.Fatalf("%s: script never ran the instance", name)
	}
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txt scripts")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runScript(t, f) })
	}
}

// fakeTB records the first failure and stops the script like t.Fatalf.
type fakeTB struct{ msg string }

type fatal struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatal{})
}

// TestScriptHarnessCatchesMistakes: wrong expectations make a script fail
// (so the testdata scripts can fail).
func TestScriptHarnessCatchesMistakes(t *testing.T) {
	const head = "config version=2 vrid=1 prio=90 interval=1s src=10.0.0.2\nat 0 start\n"
	for name, tail := range map[string]string{
		"state":     "expect state=Master",
		"timer":     "expect timer 3.648438",
		"send":      "expect send",
		"no remove": "expect no removevips",
		"actions":   "expect actions Notify,RemoveVIPs",
		"since":     "at 1 tick\nexpect state=Backup since=1",
		"mdi":       "expect mdi 3.6",
		"priority":  "expect priority=91",
		"notify":    "expect notify Master",
		"backwards": "at 2 tick\nat 1 tick",
		"unknown":   "expect wibble",
		"config":    "config prio=100",
	} {
		f := &fakeTB{}
		func() {
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(fatal); !ok {
						panic(r)
					}
				}
			}()
			runScriptText(f, name, head+tail+"\n")
		}()
		if f.msg == "" {
			t.Errorf("%s: wrong expectation passed", name)
		}
	}
	f := &fakeTB{}
	runScriptText(f, "ok", head+"expect state=Backup\nexpect timer 3.648437\n")
	if f.msg != "" {
		t.Fatalf("correct script failed: %s", f.msg)
	}
}
