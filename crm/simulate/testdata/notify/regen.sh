#!/bin/sh
# Record crm_simulate's whole output for each NAME.xml here as NAME.out,
# for TestNotifyRecorded (see ../record.sh). random-SEED.xml come from
# gen.py, notify-*.xml are copies of crm/scheduler/testdata/cases/notify-*.xml.
# Usage: ./regen.sh [NAME...]
dir=$(dirname "$0")
exec "$dir/../record.sh" "$dir" "$@"
