#!/bin/bash
# Side-by-side failover benchmark (`make bench-failover`): Pacemaker 2.1.5 +
# corosync (Debian, the pcmk-lab default hooks) and gocrm
# (test/cluster/pcmk-failover.impl) in the same 3-node netns lab, with the
# same client poller and fault injection (../shared/tools/pcmk-lab), for the
# crash, crash-dc-svc and standby scenarios; then one table per scenario
# with all implementations: pacemaker, gocrm (the Pacemaker lab's group
# unchanged: resource-agents' IPaddr2 + anything), gocrm-native (gocrm's
# own agents: ocf:gocrm:IPaddr2 + ocf:gocrm:httpd, test/cluster/pcmklab/
# cib-native.crm).
#
# Needs root, ../shared/tools/pcmk-lab and, for the Pacemaker side, the
# Debian packages pacemaker corosync resource-agents crmsh fence-agents
# (installed here with apt-get when missing). Nothing CPU-heavy should run
# meanwhile (the client's probe timeout is 20 ms). About 5-10 min per
# scenario and implementation at RUNS=5.
#
# Environment: RUNS (default 5), SCENARIOS (default "crash crash-dc-svc
# standby"), IMPLS (default "pacemaker gocrm gocrm-native"), OUT (default
# /tmp/bench-failover), GO (default go).
set -u
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
LAB=$ROOT/../shared/tools/pcmk-lab
GO=${GO:-go}
RUNS=${RUNS:-5}
SCENARIOS=${SCENARIOS:-crash crash-dc-svc standby}
IMPLS=${IMPLS:-pacemaker gocrm gocrm-native}
OUT=${OUT:-/tmp/bench-failover}

if [ ! -x "$LAB/pcmk-failover.sh" ]; then
	echo "bench/failover.sh: skipping: $LAB/pcmk-failover.sh not found (../shared absent)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "bench/failover.sh: skipping: the netns lab needs root"
	exit 0
fi
if pgrep -x stress-ng >/dev/null; then
	echo "bench/failover.sh: stress-ng is running; the measurement would be meaningless" >&2
	exit 1
fi
case " $IMPLS " in *" pacemaker "*)
	if ! command -v pacemakerd >/dev/null || ! command -v corosync >/dev/null; then
		echo "bench/failover.sh: installing pacemaker corosync resource-agents crmsh fence-agents"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q pacemaker corosync resource-agents crmsh fence-agents >/dev/null ||
			{ echo "bench/failover.sh: apt-get failed; run with IMPLS=gocrm" >&2; exit 1; }
	fi
esac
(cd "$ROOT" && mkdir -p bin && "$GO" build -o bin/crmd ./cmd/crmd && "$GO" build -o bin/crm ./cmd/crm) || exit 1

mkdir -p "$OUT"
status=0
for s in $SCENARIOS; do
	dirs=()
	for impl in $IMPLS; do
		label=$impl-$s
		args=(--scenario "$s" --runs "$RUNS" --label "$label" --out "$OUT/$label")
		cib=
		case $impl in
		gocrm) args+=(--impl "$ROOT/test/cluster/pcmk-failover.impl") ;;
		gocrm-native)
			args+=(--impl "$ROOT/test/cluster/pcmk-failover.impl")
			cib=$ROOT/test/cluster/pcmklab/cib-native.crm
			;;
		esac
		echo "=== $impl, scenario $s, $RUNS runs"
		if (cd "$LAB" && GOCRM_CIB=${cib:-${GOCRM_CIB:-}} ./pcmk-failover.sh "${args[@]}") >"$OUT/$label.log" 2>&1; then
			dirs+=("$OUT/$label")
		else
			echo "bench/failover.sh: $label failed (see $OUT/$label.log)" >&2
			status=1
		fi
	done
	if [ ${#dirs[@]} -gt 0 ]; then
		echo
		echo "--- scenario $s"
		(cd "$LAB" && ./pcmk-failover.sh --summarize "${dirs[@]}")
		echo
	fi
done
exit $status
