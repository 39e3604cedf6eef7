#!/bin/sh
# gocrm demo ("make demo"): a 3-node sandbox cluster on 127.0.0.1 running
# examples/demo.crm; the node running the "web" group is killed with
# SIGKILL and the recovery is timed. Falls back to a simulation of
# examples/sample-cib.xml when bin/crmd is missing or the sandbox does not
# come up.
set -u
CRM=${CRM:-bin/crm}
export CRMD="${CRMD:-$(pwd)/bin/crmd}"
LC_ALL=C
export LC_ALL

fallback() {
	echo "*** $1"
	echo "*** falling back to the simulation of examples/sample-cib.xml"
	echo
	exec "$CRM" simulate -x examples/sample-cib.xml -S
}

[ -x "$CRMD" ] || fallback "bin/crmd is not built"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gocrm-demo.XXXXXX") || exit 1
sb="$tmp/sandbox"
cleanup() {
	"$CRM" sandbox down --dir "$sb" --purge >/dev/null 2>&1
	rmdir "$tmp" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
t_start=$(now_ms)
since() { echo "$(( $(now_ms) - $1 )) ms"; }

echo "=== starting a 3-node sandbox in $sb"
if ! "$CRM" sandbox up --nodes 3 --dir "$sb" --timeout 60s; then
	for n in n1 n2 n3; do [ -f "$sb/$n/crmd.log" ] && tail -n 5 "$sb/$n/crmd.log"; done
	"$CRM" sandbox down --dir "$sb" --purge >/dev/null 2>&1
	fallback "the sandbox cluster did not come up"
fi
CRM_SOCKET="$sb/n1/crmd.sock"
export CRM_SOCKET

echo
echo "=== loading examples/demo.crm"
cat examples/demo.crm
t0=$(now_ms)
"$CRM" configure load update examples/demo.crm || exit 1

# wait_started RSC... : until every resource runs somewhere (max 30 s)
wait_started() {
	i=0
	while [ $i -lt 150 ]; do
		ok=1
		for r in "$@"; do
			"$CRM" resource status "$r" 2>/dev/null | grep -q "is running on" || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
if wait_started db cache web; then
	echo "all resources started $(since "$t0") after loading"
else
	echo "resources did not all start within 30 s"
fi
echo
"$CRM" status

victim=$("$CRM" resource status web | sed -n 's/^resource web is running on: \([^ ]*\).*/\1/p' | head -n 1)
if [ -z "$victim" ]; then
	echo "group web is not running; stopping"
	exit 1
fi
for n in n1 n2 n3; do
	if [ "$n" != "$victim" ]; then CRM_SOCKET="$sb/$n/crmd.sock"; break; fi
done
export CRM_SOCKET

echo
echo "=== kill -9 of $victim (runs group web)"
t0=$(now_ms)
"$CRM" sandbox kill --dir "$sb" "$victim" || exit 1
seen_unclean=0
recovered=0
i=0
while [ $i -lt 150 ]; do
	st=$("$CRM" status 2>/dev/null)
	if [ $seen_unclean = 0 ] && echo "$st" | grep -Eq "Node $victim: (UNCLEAN|OFFLINE)|OFFLINE: \[.*$victim"; then
		echo "+$(since "$t0"): $victim detected as failed"
		seen_unclean=1
	fi
	loc=$("$CRM" resource status web 2>/dev/null | sed -n 's/^resource web is running on: \([^ ]*\).*/\1/p' | head -n 1)
	if [ -n "$loc" ] && [ "$loc" != "$victim" ]; then
		echo "+$(since "$t0"): group web started on $loc"
		recovered=1
		break
	fi
	if grep -q "stonith on $victim\" err=" "$sb"/n*/crmd.log 2>/dev/null; then
		break
	fi
	sleep 0.2
	i=$((i + 1))
done
if [ $recovered = 0 ]; then
	echo "+$(since "$t0"): web not recovered: fencing of $victim did not complete:"
	grep -h -e "stonith on $victim" -e "fence device not usable" "$sb"/n*/crmd.log | sort | tail -n 3 | sed 's/^/    /'
	echo "=== restarting $victim so that it rejoins cleanly"
	"$CRM" sandbox start --dir "$sb" "$victim"
	i=0
	while [ $i -lt 150 ] && "$CRM" status 2>/dev/null | grep -q UNCLEAN; do
		sleep 0.2
		i=$((i + 1))
	done
	wait_started db cache web && echo "+$(since "$t0"): $victim rejoined, all resources running"
fi
echo
"$CRM" status

echo
echo "=== stopping the sandbox (total $(since "$t_start"))"
"$CRM" sandbox down --dir "$sb" --purge
