package simulate

import "testing"

// TestExecNamesRecorded compares the whole output for the hand-made
// clusters of testdata/execnames (gen.py) with crm_simulate's, recorded by
// testdata/execnames/regen.sh: the names executed actions of anonymous
// clone instances carry (the history entry each instance, or orphan
// instance, was found active under, or the bare base id), the history
// entries they are recorded in, and the order of the stops of a failed
// resource active on several nodes (only the stop where it failed is
// created while unpacking the status).
func TestExecNamesRecorded(t *testing.T) { checkRecorded(t, "testdata/execnames") }
