// Package lrm is gocrm's local resource manager, the counterpart of
// Pacemaker's pacemaker-execd: it runs resource-agent actions on the local
// node and reports their results to the caller (the crmd daemon, which
// forwards them to the DC's transition engine and the CIB status section).
//
// The package has three layers:
//
//   - Executors run one action of one agent class: OCF scripts
//     (OCFExecutor), LSB init scripts (LSBExecutor), systemd units over
//     D-Bus (SystemdExecutor on a SystemdManager: DBusSystemd, or
//     FakeSystemd in tests) and built-in Go agents from an agent.Registry
//     (BuiltinExecutor). Script executors run agents by absolute path
//     without a shell, with a scrubbed environment (PATH plus the OCF
//     variables), in their own process group which is SIGKILLed as a whole
//     on timeout; stdout and stderr are captured up to a bound, and the
//     result is reported when the agent exits, not when a background child
//     it left behind (IPaddr2's send_arp) closes the output pipes.
//   - LRM serialises actions per resource (never two on one resource at a
//     time), runs different resources in parallel, drives recurring
//     monitors from an injected Clock, cancels them before a stop, tracks
//     pending operations, numbers calls, refuses requests from a stale DC
//     term (ErrStaleTerm) and delivers every OpResult to one callback. A
//     state change re-issued while the identical one is still in flight (a
//     new DC repeating a pending start) joins it instead of running the
//     agent twice; both requests get the result (Execute, Settled).
//   - Results: OCF exit codes (agent.RC) plus Pacemaker's execution status
//     (ExecStatus) for outcomes without a real exit code (timeout, not
//     installed, cancelled, ...). LSB status codes are mapped as Pacemaker
//     maps them (LSBStatusRC).
//
// Wiring, as the daemon does it:
//
//	reg := agent.NewRegistry()
//	_ = dummy.Register(reg)
//	var sd lrm.Executor
//	if m, err := lrm.NewDBusSystemd(ctx); err == nil { // only if /run/systemd/system exists
//		defer m.Close()
//		sd = &lrm.SystemdExecutor{Manager: m}
//	} else if !errors.Is(err, lrm.ErrNoSystemd) {
//		return err
//	}
//	l, err := lrm.New(lrm.Config{Node: name, StateDir: dir, Builtins: reg,
//		Systemd: sd, OnResult: report, Logger: log})
//	...
//	callID, err := l.Execute(dcTerm, lrm.Request{Rsc: rsc, Op: lrm.OpStart, Timeout: 20 * time.Second})
//
// Resource state that agents keep on disk lives under Config.StateDir, so
// several LRMs (simulated nodes) can share one host.
package lrm
