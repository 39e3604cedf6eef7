// Package fuzz holds the tooling around the project's fuzz targets (the
// targets themselves live next to the code they test): corpus.sh copies
// the interesting inputs a `make fuzz` run found into the packages'
// testdata/fuzz directories so that they are committed and replayed by
// every `go test`.
package fuzz
