#!/bin/sh
# Regenerate the expected outputs of the hand-made scheduler cases with the
# real Pacemaker 2.1.5 crm_simulate (Debian package pacemaker-cli-utils).
#   cases/NAME.summary  Transition Summary lines, without the "  * " bullet
#   cases/NAME.scores   sorted allocation/promotion score lines as printed by
#                       crm_simulate -sSQ ("FUNC: RSC allocation score on NODE: S")
#   cases/NAME.graph    transition graph from the -D dot file, only the
#                       actions and orderings that are in the graph (bold):
#                       "ACTION" or "FIRST -> THEN", sorted
# Inputs: cases/*.xml are written by mkcases.py, except cases/synthetic-*.xml
# (written by `SCHED_WRITE_SYNTHETIC=1 go test -run TestSyntheticCasesUpToDate`).
# Usage: ./regen.sh [NAME...]   (default: every cases/*.xml; about 1 min)
set -eu
cd "$(dirname "$0")"
if ! command -v crm_simulate >/dev/null 2>&1; then
	echo "regen.sh: crm_simulate not installed; skipping" >&2
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
export LC_ALL=C CIB_shadow_dir="$tmp"
if [ $# -eq 0 ]; then
	set -- $(ls cases/*.xml | sed 's|^cases/||; s|\.xml$||')
fi
for name in "$@"; do
	f="cases/$name.xml"
	crm_simulate -x "$f" -S >"$tmp/out" 2>&1
	sed -n '/^Transition Summary:/,/^$/p' "$tmp/out" |
		sed -n 's/^  \* //p' >"cases/$name.summary"
	crm_simulate -x "$f" -sSQ 2>/dev/null |
		grep ' score on ' | sort >"cases/$name.scores"
	crm_simulate -x "$f" -S -D "$tmp/g.dot" >/dev/null 2>&1
	grep 'style[ ]*=[ ]*bold' "$tmp/g.dot" |
		sed -E 's/ \[.*$//; s/"//g' | sort >"cases/$name.graph"
done
