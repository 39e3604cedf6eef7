#!/bin/bash
# Copies the inputs `go test -fuzz` found interesting (kept in the Go build
# cache, $GOCACHE/fuzz/MODULE/PKG/TARGET) into PKG/testdata/fuzz/TARGET, so
# that they are committed and replayed by every plain `go test` and by the
# next `make fuzz` on another machine. Called by `make fuzz-corpus` after
# `make fuzz`. Inputs over MAXBYTES are skipped; at most MAX files are kept
# per target (the corpus already committed counts); files are named by
# their content hash, as go test names them, so copying twice changes
# nothing.
set -eu
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
cd "$ROOT"
GO=${GO:-go}
MAX=${MAX:-300}
MAXBYTES=${MAXBYTES:-4096}
module=$($GO list -m)
cache=$($GO env GOCACHE)/fuzz/$module
if [ ! -d "$cache" ]; then
	echo "fuzz-corpus: nothing in $cache (run make fuzz first)"
	exit 0
fi
added=0
for dir in "$cache"/*/ "$cache"/*/*/ "$cache"/*/*/*/ "$cache"/*/*/*/*/; do
	[ -d "$dir" ] || continue
	target=$(basename "$dir")
	case $target in Fuzz*) ;; *) continue ;; esac
	pkg=${dir#"$cache"/}
	pkg=${pkg%/"$target"/}
	[ "$pkg" = "$target/" ] && pkg=.
	[ -d "$pkg" ] || continue
	grep -qs "^func $target(" "$pkg"/*_test.go || continue
	dest=$pkg/testdata/fuzz/$target
	mkdir -p "$dest"
	n=$(find "$dest" -type f | wc -l)
	for f in "$dir"*; do
		[ -f "$f" ] || continue
		[ "$n" -lt "$MAX" ] || break
		[ "$(stat -c %s "$f")" -le "$MAXBYTES" ] || continue
		name=$(basename "$f")
		[ -e "$dest/$name" ] && continue
		cp "$f" "$dest/$name"
		n=$((n + 1))
		added=$((added + 1))
	done
done
echo "fuzz-corpus: $added inputs added under */testdata/fuzz"
