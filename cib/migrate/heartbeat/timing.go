package heartbeat

import (
	"fmt"
	"strings"
	"time"
)

// Timing is the membership (gossip failure detection) timing derived from
// the ha.cf timers. The field names follow hashicorp/memberlist's Config so
// the caller can copy them over.
type Timing struct {
	// The ha.cf values in effect (defaults filled in).
	Keepalive, DeadTime, WarnTime, InitDead, DeadPing time.Duration

	// ProbeInterval = keepalive: one liveness probe per heartbeat interval.
	ProbeInterval time.Duration
	// ProbeTimeout = keepalive/2 (memberlist's LAN ratio), the direct-ack
	// wait before indirect probes.
	ProbeTimeout time.Duration
	// SuspicionMult is chosen so that one failed probe round plus the
	// suspicion timeout (SuspicionMult × ProbeInterval for clusters below 10
	// nodes) does not exceed deadtime; never below MinSuspicionMult.
	SuspicionMult int
	// SuspicionMaxTimeoutMult = 1: heartbeat's deadtime is a fixed bound, so
	// the Lifeguard stretch (timer starting at max and shrinking with
	// confirmations) is disabled.
	SuspicionMaxTimeoutMult int
	// SuspicionTimeout is the expected time from the last answered probe to
	// "node dead" for clusters below 10 nodes:
	// (1 + SuspicionMult) × ProbeInterval.
	SuspicionTimeout time.Duration
	// LateWarning is the "late heartbeat" warning threshold (warntime; when
	// unset, deadtime/2, our choice).
	LateWarning time.Duration
	// StartupGrace is how long a node that never joined is waited for at
	// start-up (initdead; when unset, deadtime).
	StartupGrace time.Duration
	// PingDeadTime is the dead time of ping nodes (deadping, default 30 s),
	// for the ping resource's monitor settings.
	PingDeadTime time.Duration
}

// MinSuspicionMult is the lowest suspicion multiplier MapTiming produces
// (see ../shared/docs/cluster-design.md §3.1: lower values cause false
// suspicions in 2-node clusters).
const MinSuspicionMult = 3

// MapTiming derives membership timing from ha.cf and explains each choice in
// plain text, one line per timer. Findings (deadtime too short for the
// minimum suspicion multiplier, ...) are returned as warnings.
func MapTiming(cf *HACF) (Timing, string, []Warning) {
	var warns []Warning
	file := ""
	if cf == nil {
		cf = &HACF{Keepalive: DefaultKeepalive, DeadTime: DefaultDeadTime, DeadPing: DefaultDeadPing}
	} else {
		file = cf.File
	}
	t := Timing{Keepalive: cf.Keepalive, DeadTime: cf.DeadTime, DeadPing: cf.DeadPing}
	if t.Keepalive <= 0 {
		t.Keepalive = DefaultKeepalive
	}
	if t.DeadTime <= t.Keepalive {
		t.DeadTime = max(DefaultDeadTime, 2*t.Keepalive)
	}
	if t.DeadPing <= 0 {
		t.DeadPing = DefaultDeadPing
	}
	t.ProbeInterval = t.Keepalive
	t.ProbeTimeout = t.Keepalive / 2
	mult := int(t.DeadTime/t.ProbeInterval) - 1
	if mult < MinSuspicionMult {
		mult = MinSuspicionMult
		warns = append(warns, Warning{file, 0, fmt.Sprintf(
			"deadtime %s is shorter than %d probe rounds of keepalive %s: nodes are declared dead after %s instead",
			fmtDur(t.DeadTime), MinSuspicionMult+1, fmtDur(t.Keepalive), fmtDur(time.Duration(MinSuspicionMult+1)*t.ProbeInterval))})
	}
	t.SuspicionMult = mult
	t.SuspicionMaxTimeoutMult = 1
	t.SuspicionTimeout = time.Duration(1+mult) * t.ProbeInterval

	t.WarnTime = cf.WarnTime
	warnFrom := fmt.Sprintf("warntime %s", fmtDur(cf.WarnTime))
	if !cf.WarnTimeSet || cf.WarnTime <= 0 || cf.WarnTime >= t.DeadTime {
		t.WarnTime = t.DeadTime / 2
		warnFrom = fmt.Sprintf("warntime unset or not below deadtime, using deadtime/2 = %s", fmtDur(t.WarnTime))
	}
	t.LateWarning = t.WarnTime

	t.InitDead = cf.InitDead
	initFrom := fmt.Sprintf("initdead %s", fmtDur(cf.InitDead))
	if !cf.InitDeadSet || cf.InitDead < t.DeadTime {
		t.InitDead = t.DeadTime
		initFrom = fmt.Sprintf("initdead unset or below deadtime, using deadtime %s", fmtDur(t.DeadTime))
	}
	t.StartupGrace = t.InitDead
	t.PingDeadTime = t.DeadPing

	var b strings.Builder
	fmt.Fprintf(&b, "keepalive %s → gossip probe interval %s (probe timeout %s)\n",
		fmtDur(t.Keepalive), fmtDur(t.ProbeInterval), fmtDur(t.ProbeTimeout))
	fmt.Fprintf(&b, "deadtime %s → node declared dead after %s (1 failed probe round + suspicion multiplier %d × %s; no Lifeguard stretch)\n",
		fmtDur(t.DeadTime), fmtDur(t.SuspicionTimeout), t.SuspicionMult, fmtDur(t.ProbeInterval))
	fmt.Fprintf(&b, "%s → late-heartbeat warning after %s of silence\n", warnFrom, fmtDur(t.LateWarning))
	fmt.Fprintf(&b, "%s → start-up grace %s before a node that never joined counts as dead\n", initFrom, fmtDur(t.StartupGrace))
	if len(cf.Ping) > 0 {
		fmt.Fprintf(&b, "deadping %s → ping nodes count as unreachable after %s\n", fmtDur(t.DeadPing), fmtDur(t.PingDeadTime))
	}
	return t, b.String(), warns
}
