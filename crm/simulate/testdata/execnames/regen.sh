#!/bin/sh
# Record crm_simulate's whole output for each NAME.xml here as NAME.out,
# for TestExecNamesRecorded (see ../record.sh); NAME.xml come from gen.py.
# Usage: ./regen.sh [NAME...]
dir=$(dirname "$0")
exec "$dir/../record.sh" "$dir" "$@"
