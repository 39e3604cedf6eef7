#!/bin/bash
# Side-by-side benchmark: `bin/crm simulate -x F -R` against Pacemaker's
# `crm_simulate -x F -R` (Debian pacemaker-cli-utils) on the same synthetic
# CIBs, generated with ../shared/tools/gen_cib.py and gen_clone_cib.py.
# Called by `make bench`; run from anywhere.
#
# For each CIB it prints wall time and peak RSS of both (GNU time -v), the
# speed-up, and whether the Transition Summaries are identical as multisets
# of whitespace-collapsed lines (bench/tscompare), then a few differing
# lines per file.
#
# Environment:
#   GO          go command (default go)
#   CASES       space-separated subset of case names (default: all, see below)
#   LIMIT       per-run timeout in seconds (default 600)
#   REPEAT      runs per tool and file; the minimum wall time is reported (default 1)
#   SHOW        differing lines shown per side and file (default 5)
#   KEEP=1      keep the work directory (CIBs, outputs, time logs)
#   WORKDIR     use this directory instead of a fresh temporary one
set -u
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$ROOT" || exit 1
GO=${GO:-go}
LIMIT=${LIMIT:-600}
REPEAT=${REPEAT:-1}
SHOW=${SHOW:-5}
TOOLS=$ROOT/../shared/tools

# name | generator | arguments
ALL_CASES=(
	"16x1000|gen_cib.py|--nodes 16 --resources 1000 --seed 1"
	"16x2000|gen_cib.py|--nodes 16 --resources 2000 --seed 1"
	"16x5000|gen_cib.py|--nodes 16 --resources 5000 --seed 1"
	"16x2000-groups|gen_cib.py|--nodes 16 --resources 2000 --seed 1 --groups 200 --group-size 3"
	"clones-100x100|gen_clone_cib.py|--nodes 100 --clones 100 --locations 100 --state fresh"
)

if [ ! -f "$TOOLS/gen_cib.py" ] || [ ! -f "$TOOLS/gen_clone_cib.py" ]; then
	echo "bench/run.sh: skipping the side-by-side benchmark: $TOOLS/gen_cib.py or gen_clone_cib.py not found (../shared absent)"
	exit 0
fi
if ! command -v python3 >/dev/null; then
	echo "bench/run.sh: skipping the side-by-side benchmark: python3 not found"
	exit 0
fi
THEIRS=$(command -v crm_simulate || true)
if [ -z "$THEIRS" ]; then
	echo "bench/run.sh: crm_simulate not found (apt-get install pacemaker-cli-utils): timing bin/crm alone"
fi
if [ ! -x /usr/bin/time ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "bench/run.sh: installing GNU time"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null 2>&1; }
	fi
	if [ ! -x /usr/bin/time ]; then
		echo "bench/run.sh: skipping: /usr/bin/time (package time) is not installed"
		exit 0
	fi
fi

if [ -n "${WORKDIR:-}" ]; then
	W=$WORKDIR
	mkdir -p "$W"
else
	W=$(mktemp -d "${TMPDIR:-/tmp}/gocrm-bench.XXXXXX")
	if [ "${KEEP:-0}" != 1 ]; then
		trap 'rm -rf "$W"' EXIT
	fi
fi
mkdir -p "$W/shadow" "$ROOT/bin"

echo "bench/run.sh: building bin/crm and tscompare"
"$GO" build -tags hashicorpmetrics -o bin/crm ./cmd/crm || exit 1
"$GO" build -o "$W/tscompare" ./bench/tscompare || exit 1

# wall_s FILE: "Elapsed (wall clock) time" of a GNU time -v log, in seconds.
wall_s() {
	sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f\n", s }'
}
# rss_mb FILE: peak RSS of a GNU time -v log, in MB.
rss_mb() {
	sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$1" | awk '{ printf "%.0f\n", $1 / 1024 }'
}
# timed TAG CMD...: run CMD REPEAT times; leaves $W/TAG.out, .err, .time
# (the fastest run's) and sets RC, WALL, RSS.
timed() {
	local tag=$1 best="" i w
	shift
	RC=0 WALL="" RSS=""
	for ((i = 0; i < REPEAT; i++)); do
		LC_ALL=C CIB_shadow_dir="$W/shadow" /usr/bin/time -v -o "$W/$tag.time.$i" \
			timeout "$LIMIT" "$@" >"$W/$tag.out.$i" 2>"$W/$tag.err.$i"
		local rc=$?
		w=$(wall_s "$W/$tag.time.$i")
		if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$w
			RC=$rc
			mv -f "$W/$tag.time.$i" "$W/$tag.time"
			mv -f "$W/$tag.out.$i" "$W/$tag.out"
			mv -f "$W/$tag.err.$i" "$W/$tag.err"
		fi
		rm -f "$W/$tag.time.$i" "$W/$tag.out.$i" "$W/$tag.err.$i"
	done
	WALL=$best
	RSS=$(rss_mb "$W/$tag.time")
	if [ "$RC" = 124 ]; then WALL=">$LIMIT"; fi
}

ROWS=()
DETAILS=()
for spec in "${ALL_CASES[@]}"; do
	IFS='|' read -r name gen args <<<"$spec"
	if [ -n "${CASES:-}" ] && [[ " $CASES " != *" $name "* ]]; then
		continue
	fi
	F=$W/$name.xml
	if [ ! -s "$F" ]; then
		# shellcheck disable=SC2086
		python3 "$TOOLS/$gen" $args -o "$F" || { echo "bench/run.sh: $gen failed for $name"; exit 1; }
	fi
	size=$(awk -v b="$(stat -c %s "$F")" 'BEGIN { printf "%.2f", b / 1e6 }')
	echo "bench/run.sh: $name ($size MB): bin/crm simulate -R"
	timed "ours-$name" bin/crm simulate -x "$F" -R
	o_rc=$RC o_wall=$WALL o_rss=$RSS
	t_rc="-" t_wall="-" t_rss="-"
	if [ -n "$THEIRS" ]; then
		echo "bench/run.sh: $name ($size MB): crm_simulate -R"
		timed "theirs-$name" "$THEIRS" -x "$F" -R
		t_rc=$RC t_wall=$WALL t_rss=$RSS
	fi
	speed="-" memr="-" same="-" ndiff="-" lines="-"
	if [[ $o_wall =~ ^[0-9.]+$ && $t_wall =~ ^[0-9.]+$ ]]; then
		speed=$(awk -v a="$o_wall" -v b="$t_wall" 'BEGIN { if (a > 0) printf "%.1fx", b / a; else print "inf" }')
	fi
	if [[ $o_rss =~ ^[0-9]+$ && $t_rss =~ ^[0-9]+$ && $o_rss -gt 0 ]]; then
		memr=$(awk -v a="$o_rss" -v b="$t_rss" 'BEGIN { printf "%.1fx", b / a }')
	fi
	if [ "$o_rc" != 0 ]; then
		same="ours rc=$o_rc"
		DETAILS+=("$name: bin/crm exited $o_rc: $(head -c 300 "$W/ours-$name.err")")
	elif [ -n "$THEIRS" ] && [ "$t_rc" != 0 ]; then
		same="theirs rc=$t_rc"
		DETAILS+=("$name: crm_simulate exited $t_rc: $(head -c 300 "$W/theirs-$name.err")")
	elif [ -z "$THEIRS" ]; then
		# Nothing to compare with: still check that ours has a summary.
		if cmp=$("$W/tscompare" "$W/ours-$name.out" "$W/ours-$name.out" 2>&1); then
			lines="$(sed -n 's/.*ours=\([0-9]*\).*/\1/p' <<<"$cmp")/-"
		else
			same="no TS"
			DETAILS+=("$name: $cmp")
		fi
	else
		cmp=$("$W/tscompare" -show "$SHOW" "$W/ours-$name.out" "$W/theirs-$name.out" 2>&1)
		head1=${cmp%%$'\n'*}
		if [[ $head1 == identical=* ]]; then
			same=$(sed -n 's/.*identical=\([a-z]*\).*/\1/p' <<<"$head1")
			ndiff=$(sed -n 's/.*differing=\([0-9]*\).*/\1/p' <<<"$head1")
			lines=$(sed -n 's/.*ours=\([0-9]*\) theirs=\([0-9]*\).*/\1\/\2/p' <<<"$head1")
			if [ "$same" != yes ]; then
				DETAILS+=("$name: $head1"$'\n'"$(tail -n +2 <<<"$cmp")")
			fi
		else
			same="error"
			DETAILS+=("$name: tscompare: $cmp")
		fi
	fi
	ROWS+=("$(printf '%-16s %7s %9s %9s %8s %8s %8s %7s %11s %9s %6s' \
		"$name" "$size" "$o_wall" "$t_wall" "$speed" "$o_rss" "$t_rss" "$memr" "$lines" "$same" "$ndiff")")
done

echo
echo "Side-by-side: bin/crm simulate -x F -R vs crm_simulate -x F -R (wall s, peak RSS MB; REPEAT=$REPEAT, min wall)"
printf '%-16s %7s %9s %9s %8s %8s %8s %7s %11s %9s %6s\n' \
	file MB our_wall their_wall speedup our_RSS their_RSS RSS_x "TS ours/th" identical differ
for r in "${ROWS[@]}"; do
	echo "$r"
done
if [ "${#DETAILS[@]}" -gt 0 ]; then
	echo
	echo "Differences (- only in bin/crm, + only in crm_simulate; up to $SHOW per side):"
	for d in "${DETAILS[@]}"; do
		echo "$d"
	done
fi
if [ "${KEEP:-0}" = 1 ] || [ -n "${WORKDIR:-}" ]; then
	echo
	echo "bench/run.sh: CIBs, outputs and time logs kept in $W"
fi
