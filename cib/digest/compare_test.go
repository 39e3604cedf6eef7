package digest

import (
	"errors"
	"testing"
)

// Expected per-resource decisions, as printed by Debian's Pacemaker 2.1.5
// "crm_simulate -x testdata/verdicts-*.xml -S" (which runs sanitized):
// "Reload X", "Restart X ... due to resource definition change", a lone
// "X monitor=10000" (reschedule) or nothing.
var verdictCases = map[string]map[string]Action{
	"testdata/verdicts-reload.xml": {
		"rA": Reschedule,   // secure digest recorded with the timeout: 2.1.5 hashes none
		"rB": NoAction,     // only private parameters changed (monitor)
		"rC": NoAction,     // only private parameters changed (start)
		"rD": Reload,       // restart digest matches, main does not
		"rE": ForceRestart, // restart digest differs
		"rF": ForceRestart, // start has op-level instance attributes
		"rG": Reload,       // no op-digest (unknown), agent supports reload
		"rH": ForceRestart, // no op-digest, no reload support
		"rI": Reload,       // no op-force-restart list: all parameters hashed
		"rJ": Reload,       // empty op-force-restart list: no parameter hashed
	},
	"testdata/verdicts-secure.xml": {
		"sK": NoAction,     // feature set < 3.16.0: fencing params not in secure digest
		"sL": ForceRestart, // feature set >= 3.16.0: they are
		"dM": NoAction,     // old secure digest ignores op-level params
		"dN": ForceRestart, // new one includes them
		"dO": NoAction,     // no op-secure-params: secure digest of all params
	},
}

func TestVerdictsAgainstCrmSimulate(t *testing.T) {
	for file, want := range verdictCases {
		c, cfg, ok := loadCase(t, file)
		if !ok {
			t.Fatalf("%s does not parse", file)
		}
		got := map[string]Action{}
		for _, ns := range c.Status.Nodes {
			na := nodeAttrs(cfg.Index, ns, cfg.Now)
			for _, lr := range ns.Resources {
				got[lr.ID] = NoAction
				for _, op := range lr.Ops {
					in, err := FromCIB(cfg, na, lr.ID, op.Operation, op.Interval)
					if err != nil {
						t.Fatalf("%s: %s: %v", file, op.ID, err)
					}
					act, _ := Check(in, recordedOf(op), Options{Sanitized: true})
					if rank(act) > rank(got[lr.ID]) {
						got[lr.ID] = act
					}
				}
			}
		}
		for rsc, w := range want {
			if got[rsc] != w {
				t.Errorf("%s: %s: verdict %s, crm_simulate did %s", file, rsc, got[rsc], w)
			}
		}
	}
}

func TestCompareOrder(t *testing.T) {
	in := Input{Task: "start", Params: map[string]string{"state": "/s", "fake": "1"}}
	all := OpDigest(in)
	restart := RestartDigest(in, " state ")
	cases := []struct {
		name string
		rec  Recorded
		want Result
		act  Action
	}{
		{"match", Recorded{OpDigest: all, HasOpDigest: true}, Match, NoAction},
		{"match with restart digest", Recorded{OpDigest: all, HasOpDigest: true, RestartDigest: restart, HasRestart: true,
			ForceRestart: " state ", HasForceRestart: true}, Match, NoAction},
		{"restart digest differs wins over missing op-digest", Recorded{RestartDigest: "x", HasRestart: true,
			ForceRestart: " state ", HasForceRestart: true}, Restart, ForceRestart},
		{"unknown without reload support", Recorded{}, Unknown, ForceRestart},
		{"unknown with reload support", Recorded{RestartDigest: restart, HasRestart: true,
			ForceRestart: " state ", HasForceRestart: true}, Unknown, Reload},
		{"mismatch, reload", Recorded{OpDigest: "x", HasOpDigest: true, RestartDigest: restart, HasRestart: true,
			ForceRestart: " state ", HasForceRestart: true}, Mismatch, Reload},
		{"mismatch, no reload", Recorded{OpDigest: "x", HasOpDigest: true}, Mismatch, ForceRestart},
		{"recurring mismatch", Recorded{OpDigest: "x", HasOpDigest: true, IntervalMS: 10000}, Mismatch, Reschedule},
	}
	for _, c := range cases {
		rin := in
		if c.rec.IntervalMS > 0 {
			rin.Task, rin.IntervalMS = "monitor", c.rec.IntervalMS
		}
		act, cmp := Check(rin, c.rec, Options{})
		if cmp.Result != c.want || act != c.act {
			t.Errorf("%s: got %s/%s, want %s/%s", c.name, cmp.Result, act, c.want, c.act)
		}
	}

	// Op-level params on a non-recurring op turn a mismatch into Restart
	// even when the restart digest matches.
	in.OpParams = map[string]string{"trace_ra": "1"}
	rec := Recorded{OpDigest: "x", HasOpDigest: true, RestartDigest: RestartDigest(in, " state "), HasRestart: true,
		ForceRestart: " state ", HasForceRestart: true}
	if act, cmp := Check(in, rec, Options{}); cmp.Result != Restart || act != ForceRestart {
		t.Errorf("op params: got %s/%s", cmp.Result, act)
	}
}

func TestSanitizedOnlyWhenAsked(t *testing.T) {
	in := Input{Task: "start", Params: map[string]string{"passwd": "new", "fake": "foo"}}
	rec := Recorded{OpDigest: "x", HasOpDigest: true, SecureParams: " passwd ", HasSecureParams: true,
		SecureDigest: SecureDigest(in, " passwd ", ""), HasSecure: true}
	if act, _ := Check(in, rec, Options{Sanitized: true}); act != NoAction {
		t.Errorf("sanitized: %s, want none", act)
	}
	if act, _ := Check(in, rec, Options{}); act != ForceRestart {
		t.Errorf("daemon: %s, want restart", act)
	}
	if got, want := SecureDigest(in, " passwd ", ""), Sum(map[string]string{"fake": "foo"}); got != want {
		t.Errorf("SecureDigest = %s, want %s", got, want)
	}
}

// Restart and secure digests recorded by real Pacemaker controllers in the
// shared regression inputs (probe-pending-node, restart-with-extra-op-params).
func TestRecordedRestartAndSecureDigests(t *testing.T) {
	sap := Input{Task: "monitor", Params: map[string]string{
		"AUTOMATIC_RECOVER": "false",
		"InstanceName":      "UC5_ASCS11_uatdobwscs",
		"START_PROFILE":     "/sapmnt/UC5/profile/UC5_ASCS11_uatdobwscs",
	}}
	if got := OpDigest(sap); got != "08c114a33aa3c16b3204ff09cb983107" {
		t.Errorf("SAPInstance op-digest %s", got)
	}
	if got := RestartDigest(sap, " ERS_START_PROFILE  ERS_InstanceName  START_PROFILE  InstanceName "); got != "315a463141e0ef59afedf7a62a8d6362" {
		t.Errorf("SAPInstance restart digest %s", got)
	}
	dummy := Input{Task: "start", Params: map[string]string{"passwd": "whatever", "fake": "foo"}}
	if got := SecureDigest(dummy, "  passwd  ", "3.16.0"); got != "e989cbe4a0e9492305ffdc8c6391ffee" {
		t.Errorf("Dummy secure digest %s", got)
	}
	if got := RecordSecureDigest(dummy, ForceRestartList([]string{"passwd"})); got != "e989cbe4a0e9492305ffdc8c6391ffee" {
		t.Errorf("Dummy recorded secure digest %s", got)
	}
	mon := dummy
	mon.Task, mon.IntervalMS, mon.Timeout = "monitor", 10000, "20"
	if got := RecordSecureDigest(mon, "  passwd  "); got != "5bdf174ed64795a495a62489f1057eff" {
		t.Errorf("Dummy monitor recorded secure digest %s", got)
	}
	if got := SecureDigest(mon, "  passwd  ", "3.16.0"); got != "e989cbe4a0e9492305ffdc8c6391ffee" {
		t.Errorf("Dummy monitor scheduler secure digest %s (2.1.5 drops the timeout)", got)
	}
}

func TestTimeoutMS(t *testing.T) {
	for spec, want := range map[string]int64{
		"": 20000, "20s": 20000, "20": 20000, "1m": 60000, "1min": 60000, "2h": 7200000, "500ms": 500,
		"1500us": 1, "1.9s": 1000, " 45 s": 45000, "PT30S": 20000, "abc": 20000, "10x": 20000, "-5s": 20000,
		"30S": 30000, "0": 0,
	} {
		if got := TimeoutMS(spec); got != want {
			t.Errorf("TimeoutMS(%q) = %d, want %d", spec, got, want)
		}
	}
}

func TestIsFencingParam(t *testing.T) {
	for name, want := range map[string]bool{
		"pcmk_host_list": true, "pcmk_host_map": true, "pcmk_delay_max": true, "pcmk_reboot_action": true,
		"pcmk_monitor_timeout": true, "pcmk_off_retries": true, "pcmk_host_argument": true,
		"provides": false, "stonith-timeout": false, "passwd": false, "pcmk_foo": false, "pcmk_list_bar": false,
	} {
		if got := IsFencingParam(name); got != want {
			t.Errorf("IsFencingParam(%q) = %v", name, got)
		}
	}
}

func TestCompareVersion(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"3.16.0", "3.16.0", 0}, {"3.2.0", "3.16.0", -1}, {"3.16.1", "3.16.0", 1}, {"3.0", "3.0.1", -1}, {"2.0", "1.0.8", 1}} {
		if got := CompareVersion(c.a, c.b); got != c.want {
			t.Errorf("CompareVersion(%s, %s) = %d", c.a, c.b, got)
		}
	}
}

func TestFromCIBErrors(t *testing.T) {
	_, cfg, ok := loadCase(t, "testdata/sim-nvsets.xml")
	if !ok {
		t.Fatal("testdata does not parse")
	}
	if _, err := FromCIB(cfg, NodeAttrs{"#uname": "node1"}, "nope", "start", 0); !errors.Is(err, ErrNoResource) {
		t.Errorf("missing resource: %v", err)
	}
	// d4 has a disabled 10s monitor: Pacemaker treats its history as orphaned.
	if _, err := FromCIB(cfg, NodeAttrs{"#uname": "node1"}, "d4", "monitor", 10000); !errors.Is(err, ErrOrphanOp) {
		t.Errorf("disabled monitor: %v", err)
	}
	if _, err := FromCIB(cfg, NodeAttrs{"#uname": "node1"}, "d4", "monitor", 99000); !errors.Is(err, ErrOrphanOp) {
		t.Errorf("unconfigured monitor: %v", err)
	}
	in, err := FromCIB(cfg, NodeAttrs{"#uname": "node1"}, "d4", "monitor", 11000)
	if err != nil || in.Timeout != "31s" || in.Params["state"] != "/first" {
		t.Errorf("d4 monitor 11s: %+v, %v", in, err)
	}
	if _, err := FromCIB(Config{}, nil, "d4", "start", 0); err == nil {
		t.Error("nil configuration accepted")
	}
}
