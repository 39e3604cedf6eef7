#!/bin/sh
# Record crm_simulate's whole output (Pacemaker 2.1.5, Debian package
# pacemaker-cli-utils) for each DIR/NAME.xml as DIR/NAME.out (the regen.sh
# of notify/ and execnames/ call this). Usage: record.sh DIR [NAME...]
set -eu
cd "$1"
shift
if ! command -v crm_simulate >/dev/null 2>&1; then
	echo "regen.sh: crm_simulate not installed; skipping" >&2
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
export LC_ALL=C CIB_shadow_dir="$tmp"
if [ $# -eq 0 ]; then
	set -- $(ls *.xml | sed 's|\.xml$||')
fi
for name in "$@"; do
	crm_simulate -x "$name.xml" -S 2>&1 | sed -e 's/ocf::/ocf:/g' >"$name.out"
done
