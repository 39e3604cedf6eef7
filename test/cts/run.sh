#!/usr/bin/env bash
# test/cts/run.sh: build crmd, crm and the cts driver, then run the seeded
# fault campaign (package test/cts). Called by `make cts SEED=N FAULTS=M`.
#
#   SEED=N FAULTS=M [KINDS=a,b] [PLANT=skip-fence-wait] [BUDGET=40m]
#   [KEEP_LOGS=dir] [TOPO=twonode] bash test/cts/run.sh [extra cts flags]
#
# TOPO=twonode runs the two-node-mode pair campaign (kill, freeze,
# partition) instead of three nodes and an arbiter.
#
# As root the nodes run in network namespaces (partitions) with a tmpfs per
# data directory (disk full); otherwise on 127.0.0.1 with process and
# resource faults only. The last line of the output is exactly
# "faults N violations V"; the exit status is 0 only without violations.
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
SEED=${SEED:-1}
FAULTS=${FAULTS:-20}
BUDGET=${BUDGET:-40m}
bin=$(mktemp -d "${TMPDIR:-/tmp}/gocrm-cts-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
$GO build -o "$bin/" ./cmd/crmd ./cmd/crm ./test/cts/cmd/cts ./test/cts/cmd/ctshttpd
args=(-seed "$SEED" -faults "$FAULTS" -budget "$BUDGET" -crmd "$bin/crmd" -crm "$bin/crm" -httpd "$bin/ctshttpd")
if [ -n "${TOPO:-}" ]; then args+=(-topo "$TOPO"); fi
if [ -n "${KINDS:-}" ]; then args+=(-kinds "$KINDS"); fi
if [ -n "${PLANT:-}" ]; then args+=(-plant "$PLANT"); fi
if [ -n "${KEEP_LOGS:-}" ]; then args+=(-keep-logs "$KEEP_LOGS"); fi
"$bin/cts" "${args[@]}" "$@"
