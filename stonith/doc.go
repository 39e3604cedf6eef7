// Package stonith is gocrm's fencing subsystem (Pacemaker's
// pacemaker-fenced): fence-device plugins, their configuration and
// validation, and the executor that carries out fencing requests.
//
// # Layers
//
//   - stonith/fsm (pure, no I/O, injected time and randomness): cluster
//     options (stonith-enabled, stonith-action, stonith-timeout,
//     priority-fencing-delay, concurrent-fencing, stonith-max-attempts),
//     per-device pcmk_* parameters (fsm.DeviceSpec: pcmk_host_list,
//     pcmk_host_map, pcmk_host_check, pcmk_host_argument,
//     pcmk_delay_base incl. per-node maps, pcmk_delay_max,
//     pcmk_<action>_action/_timeout/_retries, pcmk_action_limit),
//     fencing topology (fsm.Topology: levels by target name, pattern or
//     node attribute), the attempt plan (fsm.BuildPlan), the operation
//     state machine (fsm.Operation: Next/Report) and the fencing history
//     record (fsm.Record, stable JSON).
//   - this package: the Device interface, the plugin Registry with
//     configure-time validation and secret masking (Params, Configured),
//     and the Executor that drives fsm.Operation against real devices.
//   - plugins: stonith/external (unmodified fence_* agents),
//     stonith/ssh, stonith/watchdog (self-fencing), stonith/meatware
//     (operator confirmation), stonith/sandbox (kill a sandbox node's
//     crmd), stonith/fake (scriptable, tests); stonith/plugins wires
//     them all into one Registry.
//
// # Semantics
//
// A fencing request for target T is planned as follows. If the topology
// has levels for T (exact name first, else the first matching pattern,
// else the first matching attribute), they are tried in index order; all
// devices of a level must succeed, and a level whose devices are not all
// configured and able to fence T is skipped. A reboot through a level with
// several devices becomes "off" on each, then "on" on each (the "on"
// half may fail). Without topology every capable device is its own level,
// ordered by: runnable by another node, priority meta attribute, id. A
// device can fence T according to pcmk_host_check (static-list from
// pcmk_host_list/pcmk_host_map, dynamic-list from the device's list
// action, status from a status query, none); the default is static-list
// when a list or map is given, else dynamic-list. Each device action is
// run by the node where the device is active unless that node is T; then
// by another member; T fences itself only when nothing else can (or for
// self-fencing devices such as the watchdog). Before the first action
// the plan waits pcmk_delay_base (for T) plus a random part keeping the
// total within pcmk_delay_max, plus priority-fencing-delay when
// fsm.PriorityDelayApplies. A failed action is tried up to
// pcmk_<action>_retries times (default 2), then the next level; after
// the last level the whole plan is retried, up to stonith-max-attempts.
// Each action is bounded by pcmk_<action>_timeout, else stonith-timeout.
//
// # Secrets
//
// Parameters named like passwords, keys, tokens or communities
// (IsSecretName) or marked Secret in a plugin's metadata are secret: they
// are masked (Mask) in Params.String, Params.LogValue, Configured.String
// and LogValue, and every error returned by a configured Device or by
// Registry.Configure has any secret value replaced by the mask (sentinel
// matching with errors.Is still works). Only the device itself sees the
// values (e.g. on a fence agent's standard input).
//
// # Wiring (what the DC integration calls)
//
//	reg, _ := plugins.NewRegistry(plugins.Deps{SSH: ssh.ExecRunner{},
//		Meatware: hub, Sandbox: killer /* sandbox clusters only */})
//	opts, err := fsm.ParseOptions(crmConfigProperties)      // on every CIB change
//	dev, err := reg.Configure(ctx, rscID, rscType, params, priority, log) // per stonith primitive
//	lvl, err := fsm.ParseLevel(fsm.LevelConfig{...})         // per fencing-level
//	topo, err := fsm.NewTopology(levels...)
//	ex, _ := stonith.NewExecutor(stonith.ExecutorConfig{Node: self, Options: opts,
//		Topology: topo, Devices: devs, RunsOn: activeNodeByDevice,
//		Remote: rpc, OnRecord: writeHistoryToCIB, Logger: log})
//	defer ex.Close()
//	ex.Reconfigure(...)                                       // later CIB changes
//	rec, err := ex.Fence(ctx, fsm.Request{Target: node, Client: "crmd",
//		Nodes: onlineMembers, TargetAttrs: attrs,
//		TargetHasPriority: fsm.PriorityDelayApplies(node, lostPriorities)})
//	// err == nil  ⇔ rec.State == fsm.StateDone: the node is confirmed fenced.
//	// errors.Is(err, stonith.ErrNoDevice | stonith.ErrFenceFailed)
//
// A peer asked over RPC to run one step calls Executor.RunStep; `crm node
// fence-confirm NODE` calls meatware.Hub.Confirm(NODE). Fencing history
// records go to the CIB through OnRecord (pending, then done/failed) as
// fsm.Record.Marshal bytes; fsm.MarshalHistory/UnmarshalHistory handle
// whole lists.
//
// # Concurrency
//
// Registry, Configured, Params and Executor are safe for concurrent use.
// Devices must be safe for concurrent calls. The Executor owns one
// goroutine per running operation; Close cancels them and waits. The
// watchdog device's Run must be given a goroutine by the daemon.
package stonith
