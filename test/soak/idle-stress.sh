#!/usr/bin/env bash
# idle-stress.sh: prove that gocrm's failure detection does not produce false
# failures while the CPUs are saturated.
#
# It starts a 3-node sandbox cluster on 127.0.0.1 (default timers), loads a
# configuration (examples/demo.crm), waits until every resource is started,
# then runs `stress-ng --cpu N` for DURATION seconds while sampling
# `crm status --output-as=json` from every node every INTERVAL seconds.
#
# A false failure is any of, after the baseline is taken:
#   - a node reported offline / unclean / pending / shutdown by any node,
#   - the DC changing or quorum being lost,
#   - a resource changing node, stopping, failing, or being restarted
#     (new start/stop/promote/demote/migrate operations in the history),
#   - a recurring monitor returning rc != 0,
#   - a crmd process exiting,
#   - in the crmd logs: a member declared failed or leaving, a raft election
#     or leadership change, any fencing, any new transition, any failed
#     operation.
# Suspicions that were refuted (memberlist "Suspect"/"Refuting") and other
# WARN/ERROR lines are reported but do not fail the run (nothing was
# declared dead).
#
# Usage: test/soak/idle-stress.sh            (from anywhere)
# Environment (all optional):
#   DURATION=600     seconds of CPU load
#   INTERVAL=2       seconds between status samples
#   CPU_WORKERS=2    stress-ng --cpu workers (default: number of CPUs)
#   NODES=3          sandbox size
#   CONFIG=FILE      configuration to load (default examples/demo.crm)
#   SOAK_DIR=DIR     work directory (default: a new mktemp dir); kept after
#                    the run for inspection (samples/, n*/crmd.log, report.txt)
#   KEEP_CLUSTER=1   leave the sandbox running at the end
#   REBUILD=1        rebuild bin/crmd and bin/crm even if present
#   GOCRM_ROOT=DIR   source tree (default: two levels above this script)
#   FAULT_AFTER=S    self-test of the detector: SIGKILL node FAULT_NODE
#   FAULT_NODE=n3    (default n3) S seconds into the load; the run must FAIL
# Exit status: 0 no false failure, 1 false failure(s), 2 setup error.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=${GOCRM_ROOT:-$(cd "$here/../.." && pwd)}
DURATION=${DURATION:-600}
INTERVAL=${INTERVAL:-2}
CPU_WORKERS=${CPU_WORKERS:-$(nproc)}
NODES=${NODES:-3}
CONFIG=${CONFIG:-$root/examples/demo.crm}
SOAK_DIR=${SOAK_DIR:-$(mktemp -d /tmp/gocrm-soak.XXXXXX)}
CRM=$root/bin/crm
CRMD=$root/bin/crmd

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "SETUP ERROR: $*"; exit 2; }

for t in jq stress-ng; do
	command -v "$t" >/dev/null || die "$t not installed (apt-get install -y $t)"
done

if [[ ${REBUILD:-0} == 1 || ! -x $CRMD || ! -x $CRM ]]; then
	log "building bin/crmd and bin/crm"
	(cd "$root" && go build -o bin/crmd ./cmd/crmd && go build -o bin/crm ./cmd/crm) || die "build failed"
fi

mkdir -p "$SOAK_DIR/samples" || die "cannot create $SOAK_DIR"
[[ -e $SOAK_DIR/state.json || -d $SOAK_DIR/n1 ]] && die "$SOAK_DIR already holds a sandbox; pick a fresh SOAK_DIR"

started_cluster=0
stress_pid=""
cleanup() {
	if [[ -n $stress_pid ]] && kill -0 "$stress_pid" 2>/dev/null; then
		kill "$stress_pid" 2>/dev/null
		wait "$stress_pid" 2>/dev/null
	fi
	if [[ $started_cluster == 1 && ${KEEP_CLUSTER:-0} != 1 ]]; then
		"$CRM" sandbox down --dir "$SOAK_DIR" >/dev/null 2>&1 || log "warning: sandbox down failed"
	fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM

log "work dir $SOAK_DIR"
"$CRM" sandbox up --nodes "$NODES" --dir "$SOAK_DIR" >"$SOAK_DIR/sandbox-up.txt" 2>&1 || {
	cat "$SOAK_DIR/sandbox-up.txt" >&2
	started_cluster=1
	die "sandbox up failed"
}
started_cluster=1
cat "$SOAK_DIR/sandbox-up.txt" >&2
nodes=()
for ((i = 1; i <= NODES; i++)); do nodes+=("n$i"); done
sock() { echo "$SOAK_DIR/$1/crmd.sock"; }

CRM_SOCKET=$(sock n1) "$CRM" configure load update "$CONFIG" || die "configure load update $CONFIG failed"

# status NODE FILE: one JSON status snapshot, bounded in time.
status() { CRM_SOCKET=$(sock "$1") timeout 10 "$CRM" status --output-as=json >"$2" 2>"$2.err"; }

# signature FILE: the facts that must not change during an idle run, one a
# line, sorted. Recurring monitors are left out unless they failed (their
# history entry is refreshed by every run).
signature() {
	jq -r '.["pacemaker-result"] as $r
	| ( "dc " + ($r.summary[0].current_dc[0].name // "none") + " quorum=" + ($r.summary[0].current_dc[0].with_quorum // "?")),
	  ($r.nodes[0].node[]? | "node " + .name + " online=" + .online + " unclean=" + .unclean + " pending=" + .pending + " shutdown=" + .shutdown + " standby=" + .standby + " maintenance=" + .maintenance),
	  ($r.resources[0]? | ((.resource // [])[]), ((.group // [])[] | (.resource // [])[])
	     | "rsc " + .id + " role=" + .role + " active=" + .active + " failed=" + .failed + " blocked=" + .blocked + " on=" + ([.node[]?.name] | join(","))),
	  ($r.node_history[0].node[]? | .name as $n | .resource_history[]? | .id as $id | .operation_history[]?
	     | select(((.interval // "") == "") or .rc != "0")
	     | "op " + $n + " " + $id + " " + .task + " interval=" + (.interval // "0") + " call=" + .call + " rc=" + .rc)' "$1" | sort
}

all_started() {
	local f=$SOAK_DIR/ready.json
	status n1 "$f" || return 1
	# Every resource Started on exactly one node, no failure, all nodes online.
	jq -e '.["pacemaker-result"] as $r
	  | ([$r.resources[0]? | ((.resource // [])[]), ((.group // [])[] | (.resource // [])[])] | length > 0
	     and all(.role == "Started" and .failed == "false" and (.node | length) == 1))
	  and ([$r.nodes[0].node[] | select(.online != "true")] | length == 0)' "$f" >/dev/null
}
log "waiting for all resources to start"
for ((i = 0; ; i++)); do
	all_started && break
	((i >= 60)) && die "resources not all started after 60 s (see $SOAK_DIR/ready.json)"
	sleep 1
done
# Let the transition finish and the first monitors run.
sleep 10

# Baseline: each node's own view.
declare -A pid_of
for n in "${nodes[@]}"; do
	status "$n" "$SOAK_DIR/samples/baseline-$n.json" || die "baseline status from $n failed"
	signature "$SOAK_DIR/samples/baseline-$n.json" >"$SOAK_DIR/samples/baseline-$n.sig"
	pid_of[$n]=$(cat "$SOAK_DIR/$n/crmd.pid")
	wc -c <"$SOAK_DIR/$n/crmd.log" >"$SOAK_DIR/$n/log-offset"
done
log "baseline:"
sed 's/^/    /' "$SOAK_DIR/samples/baseline-n1.sig" >&2

cpu_ticks() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat; }
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null; }
read -r tot0 idle0 < <(cpu_ticks)
declare -A crmd_ticks0
for n in "${nodes[@]}"; do crmd_ticks0[$n]=$(proc_ticks "${pid_of[$n]}"); done

t_start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "$t_start" >"$SOAK_DIR/load-start"
log "starting stress-ng --cpu $CPU_WORKERS for ${DURATION}s, sampling every ${INTERVAL}s"
stress-ng --cpu "$CPU_WORKERS" --timeout "${DURATION}s" --metrics-brief >"$SOAK_DIR/stress-ng.txt" 2>&1 &
stress_pid=$!

events="$SOAK_DIR/events.txt"
: >"$events"
samples=0 query_failures=0 max_query_ms=0 seq=0
FAULT_NODE=${FAULT_NODE:-n3}
fault_done=0
declare -A gone prev
for n in "${nodes[@]}"; do prev[$n]=$SOAK_DIR/samples/baseline-$n.sig; done
deviating=0 changes=0
load_t0=$SECONDS
load_max=0
while kill -0 "$stress_pid" 2>/dev/null; do
	seq=$((seq + 1))
	ts=$(date -u +%H:%M:%S)
	if [[ -n ${FAULT_AFTER:-} && $fault_done == 0 ]] && ((SECONDS - load_t0 >= FAULT_AFTER)); then
		log "self-test: killing $FAULT_NODE"
		"$CRM" sandbox kill --dir "$SOAK_DIR" "$FAULT_NODE" >/dev/null 2>&1 || log "warning: sandbox kill $FAULT_NODE failed"
		fault_done=1
	fi
	for n in "${nodes[@]}"; do
		f=$(printf '%s/samples/%04d-%s.json' "$SOAK_DIR" "$seq" "$n")
		if ! kill -0 "${pid_of[$n]}" 2>/dev/null; then
			[[ -n ${gone[$n]:-} ]] || echo "$ts FAIL crmd $n (pid ${pid_of[$n]}) exited" >>"$events"
			gone[$n]=1
			continue
		fi
		q0=$(date +%s%N)
		if status "$n" "$f"; then
			q=$((($(date +%s%N) - q0) / 1000000))
			((q > max_query_ms)) && max_query_ms=$q
			samples=$((samples + 1))
			signature "$f" >"$f.sig"
			if ! cmp -s "$SOAK_DIR/samples/baseline-$n.sig" "$f.sig"; then
				deviating=$((deviating + 1))
			fi
			# Log each change of a node's view once (a lasting deviation
			# is reported when it appears, and again if it goes away).
			if ! cmp -s "${prev[$n]}" "$f.sig"; then
				changes=$((changes + 1))
				diff "${prev[$n]}" "$f.sig" | grep '^[<>]' | sed -e 's/^< /was: /' -e 's/^> /now: /' |
					sed "s/^/$ts FAIL view of $n changed: /" >>"$events"
				[[ ${prev[$n]} == *baseline* ]] || rm -f "${prev[$n]%.sig}.json" "${prev[$n]%.sig}.json.err" "${prev[$n]}"
				prev[$n]=$f.sig
			else
				rm -f "$f" "$f.err" "$f.sig" # keep only the samples that changed
			fi
		else
			query_failures=$((query_failures + 1))
			echo "$ts WARN status query to $n failed: $(head -c 300 "$f.err")" >>"$events"
		fi
	done
	read -r l1 _ </proc/loadavg
	echo "$ts $l1" >>"$SOAK_DIR/loadavg.txt"
	sleep "$INTERVAL"
done
wait "$stress_pid"
stress_rc=$?
stress_pid=""
t_end=$(date -u +%Y-%m-%dT%H:%M:%SZ)
read -r tot1 idle1 < <(cpu_ticks)
busy_pct=$(awk -v a="$tot0" -v b="$tot1" -v i="$idle0" -v j="$idle1" 'BEGIN{printf "%.1f", 100*(1-(j-i)/(b-a))}')
crmd_cpu=""
for n in "${nodes[@]}"; do
	t1=$(proc_ticks "${pid_of[$n]}")
	[[ -n $t1 ]] || { crmd_cpu+=" $n=exited"; continue; }
	crmd_cpu+=" $n=$(awk -v a="${crmd_ticks0[$n]}" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1fs", (b-a)/hz}')"
done

# Logs written since the baseline, all nodes.
for n in "${nodes[@]}"; do
	tail -c +"$(($(cat "$SOAK_DIR/$n/log-offset") + 1))" "$SOAK_DIR/$n/crmd.log"
done | sort >"$SOAK_DIR/log-since-baseline.txt" # lines start with time=RFC3339
hard='member failed|member leave|member join|Marking .* as failed|declared dead|heartbeat timeout|entering candidate|leadership changed|election|lost leadership|transition started|quorum lost|no-quorum|[Ff]enc(e|ing) (request|action|node|op)|fenced|stonith .*(reboot|off)|rc=[1-9][0-9]* status=|status=(timeout|error|cancelled)'
grep -E "$hard" "$SOAK_DIR/log-since-baseline.txt" | sed 's/^/LOG FAIL /' >>"$events"
grep -Eiv "$hard" "$SOAK_DIR/log-since-baseline.txt" | grep -Ei 'level=(WARN|ERROR)|suspect|refut' |
	sed 's/^/LOG WARN /' >>"$events"
suspicions=$(grep -Eic 'suspect|refut' "$SOAK_DIR/log-since-baseline.txt")

fails=$(grep -c 'FAIL' "$events")
warns=$(grep -c 'WARN' "$events")
loads=$(awk '{s+=$2; if($2>m)m=$2; n++} END{if(n) printf "mean %.2f max %.2f", s/n, m}' "$SOAK_DIR/loadavg.txt")
{
	echo "gocrm idle CPU-stress soak"
	echo "  window         $t_start .. $t_end (${DURATION}s, stress-ng --cpu $CPU_WORKERS, rc=$stress_rc)"
	echo "  cluster        $NODES nodes, default timers, config $(basename "$CONFIG")"
	echo "  samples        $samples status snapshots ($seq rounds x ${#nodes[@]} nodes), query failures $query_failures, slowest query ${max_query_ms} ms"
	echo "  cpu            machine busy ${busy_pct}% over the window; load1 $loads; crmd cpu time$crmd_cpu"
	echo "  stress-ng      $(grep -E 'cpu +[0-9]' "$SOAK_DIR/stress-ng.txt" | tail -1 | tr -s ' ')"
	echo "  log lines      $(wc -l <"$SOAK_DIR/log-since-baseline.txt") since baseline; suspicion/refutation lines $suspicions"
	echo "  view changes   $changes (samples deviating from baseline: $deviating)"
	echo "  events         $fails false-failure, $warns warning (details in $events)"
	[[ -n ${FAULT_AFTER:-} ]] && echo "  self-test      killed $FAULT_NODE ${FAULT_AFTER}s into the load: a FAIL verdict is expected"
	if ((fails > 0)); then
		echo "VERDICT: FAIL - false failure(s) under CPU load"
	else
		echo "VERDICT: PASS - no node declared dead, no resource moved or restarted, no fencing, no election"
	fi
} >"$SOAK_DIR/report.txt"
cat "$SOAK_DIR/report.txt"
if [[ -s $events ]]; then
	echo "--- events (first 60) ---"
	head -60 "$events"
fi
((fails == 0)) || exit 1
exit 0
