# gocrm build, test and check targets. Run from the repository root.
#
#   make build        build bin/<name> for every cmd/<name> holding Go files
#   make test         unit tests (-tags hashicorpmetrics) + short fuzz runs of every Fuzz target
#                     + real-kernel IPVS tests in a QEMU VM (test-ipvs; root + ../shared)
#   make test-ipvs    only the real-kernel IPVS tests (go test -v output)
#   make fuzz         every Fuzz target for FUZZTIME each (default 60s, ~25 min in all)
#   make fuzz-short   every Fuzz target for FUZZTIME_SHORT each (default 3s; part of make test)
#   make fuzz-corpus  copy what make fuzz found interesting into */testdata/fuzz (to commit)
#   make conformance  score bin/crm simulate against ../shared/pacemaker-scheduler
#   make bench        benchmarks, no unit tests
#   make cts          seeded fault campaign with the invariant checker (SEED, FAULTS; root:
#                     network namespaces; see test/cts/README.md)
#   make lint         gofmt, go vet, staticcheck
#   make demo         bin/crm simulate on examples/sample-cib.xml
#
# Variables: GO, FUZZTIME, TEST_TIMEOUT, TESTFLAGS, BENCH, CONFORMANCE_FLAGS.

GO                ?= go
TAGS              := -tags hashicorpmetrics
TEST_TIMEOUT      ?= 15m
TESTFLAGS         ?=
FUZZTIME          ?= 60s
FUZZTIME_SHORT    ?= 3s
BENCH             ?= .
BENCHTIME         ?= 1s
CONFORMANCE_FLAGS ?=
STATICCHECK_VERSION ?= v0.8.2
GOBIN_DIR         := $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)
STATICCHECK       := $(GOBIN_DIR)/staticcheck

# Commands: every directory cmd/<name> that holds at least one .go file.
CMDS := $(sort $(patsubst cmd/%/,%,$(dir $(wildcard cmd/*/*.go))))

.PHONY: all build crm test unit test-ipvs vmtest fuzz fuzz-short fuzz-run fuzz-corpus cts conformance bench lint staticcheck demo clean

all: build

build:
	@mkdir -p bin
	@if [ -z "$(CMDS)" ]; then echo "build: no cmd/* directory holds Go files yet"; fi
	@set -e; for c in $(CMDS); do \
		echo "$(GO) build $(TAGS) -o bin/$$c ./cmd/$$c"; \
		$(GO) build $(TAGS) -o bin/$$c ./cmd/$$c; \
	done

# bin/crm alone, for conformance and demo.
crm:
	@mkdir -p bin
	$(GO) build $(TAGS) -o bin/crm ./cmd/crm

test: unit fuzz-short test-ipvs

# Real-kernel IPVS tests in a throwaway QEMU VM (the host kernel has no
# IP_VS): needs root and ../shared/tools/ipvs-vm-test.sh, else skips.
test-ipvs:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "--- SKIP: test-ipvs: real-kernel IPVS tests need root (they boot a QEMU VM)"; \
	elif [ ! -x ../shared/tools/ipvs-vm-test.sh ]; then \
		echo "--- SKIP: test-ipvs: ../shared/tools/ipvs-vm-test.sh not found (../shared absent)"; \
	else \
		echo "=== test-ipvs: test/ipvsvm/run.sh -test.v"; \
		bash test/ipvsvm/run.sh -test.v; \
	fi

unit:
	$(GO) test $(TAGS) -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...

# Every `func FuzzXxx` in a _test.go file, run for FUZZTIME each. All targets
# run; the target fails at the end if any of them failed.
fuzz:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_FOR=$(FUZZTIME)

fuzz-corpus:
	@GO=$(GO) test/fuzz/corpus.sh

fuzz-short:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_FOR=$(FUZZTIME_SHORT)

fuzz-run:
	@failed=""; n=0; \
	for f in $$(grep -rl --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git --exclude-dir=bin '^func Fuzz' . | sort); do \
		dir=$$(dirname $$f); \
		for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			n=$$((n+1)); \
			echo "=== FUZZ $$dir $$fn ($(FUZZ_FOR))"; \
			if $(GO) test $(TAGS) -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZ_FOR) $$dir; then \
				echo "--- FUZZ PASS: $$dir $$fn"; \
			else \
				echo "--- FUZZ FAIL: $$dir $$fn"; failed="$$failed $$dir:$$fn"; \
			fi; \
		done; \
	done; \
	echo "fuzz: $$n targets run"; \
	if [ -n "$$failed" ]; then echo "fuzz: FAIL:$$failed"; exit 1; fi

# Seeded fault campaign (root: netns partitions + tmpfs disk-full; else
# 127.0.0.1). Last line: "faults N violations V". See test/cts/run.sh.
SEED   ?= 1
FAULTS ?= 20
cts:
	GO="$(GO)" SEED=$(SEED) FAULTS=$(FAULTS) KINDS="$(KINDS)" PLANT="$(PLANT)" bash test/cts/run.sh

conformance: crm
	$(GO) run ./test/conformance/cmd/conformance $(CONFORMANCE_FLAGS)

bench:
	$(GO) test $(TAGS) -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem -timeout $(TEST_TIMEOUT) ./...
	GO="$(GO)" bash bench/run.sh

$(STATICCHECK):
	GOFLAGS=-buildvcs=false $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) $(TAGS) ./...

lint: $(STATICCHECK)
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*')); \
	if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet $(TAGS) ./...
	$(STATICCHECK) $(TAGS) ./...

demo: crm
	@$(GO) build $(TAGS) -o bin/crmd ./cmd/crmd || { rm -f bin/crmd; echo "demo: bin/crmd could not be built"; }
	sh examples/demo.sh

clean:
	rm -rf bin

# VRRP failover matrix: keepalived vs gocrm's keepalived drop-in (root only;
# RUNS/PART_RUNS/SETTINGS/SCENARIOS tune it, see bench/vrrp.sh).
bench-vrrp:
	GO="$(GO)" bash bench/vrrp.sh
.PHONY: bench-vrrp

# Older name of test-ipvs.
vmtest: test-ipvs

# 10-minute idle run with both cores loaded (stress-ng): no node may be
# declared dead and no resource may move (DURATION=seconds to shorten).
soak:
	bash test/soak/idle-stress.sh
.PHONY: soak

# Failover side by side with Pacemaker + corosync in the same netns lab
# (root; RUNS/SCENARIOS/IMPLS tune it, see bench/failover.sh).
bench-failover:
	GO="$(GO)" bash bench/failover.sh
.PHONY: bench-failover
