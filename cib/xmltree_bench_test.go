package cib

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
)

// genBenchCIB writes a synthetic CIB shaped like ../shared/tools/gen_cib.py
// output: n nodes, m Dummy primitives with a monitor, a few constraints, and
// a status section where 80 % of the resources run somewhere (start +
// monitor history) and every other (node, resource) pair has a probe.
// It is deterministic and needs nothing outside the package.
func genBenchCIB(n, m int) []byte {
	const (
		uuid = "6cacb40a-dbbb-49b0-bac7-1794a61d2910"
		d0   = "f2317cad3d54cec5d7d7aa7d0bf35cf8"
		d10  = "4811cef7f7f94e3a35a70be7916cb2fd"
	)
	var b bytes.Buffer
	b.WriteString(`<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1" execution-date="1700000000">` + "\n")
	b.WriteString(" <configuration>\n  <crm_config>\n   <cluster_property_set id=\"cib-bootstrap-options\">\n")
	b.WriteString("    <nvpair id=\"cib-bootstrap-options-stonith-enabled\" name=\"stonith-enabled\" value=\"false\" />\n")
	b.WriteString("   </cluster_property_set>\n  </crm_config>\n  <nodes>\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "   <node id=\"%d\" uname=\"node%d\" />\n", i, i)
	}
	b.WriteString("  </nodes>\n  <resources>\n")
	for r := 1; r <= m; r++ {
		fmt.Fprintf(&b, "   <primitive id=\"rsc%d\" class=\"ocf\" provider=\"pacemaker\" type=\"Dummy\">\n    <operations>\n     <op id=\"rsc%d-monitor-interval-10s\" name=\"monitor\" interval=\"10s\" timeout=\"20s\" />\n    </operations>\n   </primitive>\n", r, r)
	}
	b.WriteString("  </resources>\n  <constraints>\n")
	for k := 0; k < m/10; k++ {
		fmt.Fprintf(&b, "   <rsc_location id=\"loc-%d\" rsc=\"rsc%d\" node=\"node%d\" score=\"%d\" />\n", k, 1+(k*7919)%m, 1+k%n, 50*(1+k%4))
	}
	for k := 0; k+1 < m/20; k++ {
		fmt.Fprintf(&b, "   <rsc_order id=\"ord-%d\" first=\"rsc%d\" then=\"rsc%d\" kind=\"Mandatory\" />\n", k, 1+k, 2+k+(k*31)%(m-k-1))
	}
	b.WriteString("  </constraints>\n </configuration>\n <status>\n")
	op := func(node, r int, task string, interval, rc, call int) {
		target := 0
		if task == "monitor" && interval == 0 {
			target = 7
		}
		key := fmt.Sprintf("%d:1:%d:%s", call, target, uuid)
		digest := d0
		if interval > 0 {
			digest = d10
		}
		fmt.Fprintf(&b, "      <lrm_rsc_op id=\"rsc%d_%s_%d\" operation_key=\"rsc%d_%s_%d\" operation=\"%s\" crm-debug-origin=\"build_active_RAs\" crm_feature_set=\"3.16.1\" transition-key=\"%s\" transition-magic=\"0:%d;%s\" exit-reason=\"\" on_node=\"node%d\" call-id=\"%d\" rc-code=\"%d\" op-status=\"0\" interval=\"%d\" last-rc-change=\"1699996400\" exec-time=\"10\" queue-time=\"0\" op-digest=\"%s\" />\n",
			r, task, interval, r, task, interval, task, key, rc, key, node, call, rc, interval, digest)
	}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  <node_state id=\"%d\" uname=\"node%d\" in_ccm=\"true\" crmd=\"online\" crm-debug-origin=\"build_active_RAs\" join=\"member\" expected=\"member\">\n   <lrm id=\"%d\">\n    <lrm_resources>\n", i, i, i)
		for r := 1; r <= m; r++ {
			fmt.Fprintf(&b, "     <lrm_resource id=\"rsc%d\" class=\"ocf\" provider=\"pacemaker\" type=\"Dummy\">\n", r)
			if r%5 != 0 && 1+(r*2654435761)%n == i {
				op(i, r, "start", 0, 0, 2*r)
				op(i, r, "monitor", 10000, 0, 2*r+1)
			} else {
				op(i, r, "monitor", 0, 7, 10+r)
			}
			b.WriteString("     </lrm_resource>\n")
		}
		b.WriteString("    </lrm_resources>\n   </lrm>\n  </node_state>\n")
	}
	b.WriteString(" </status>\n</cib>\n")
	return b.Bytes()
}

var (
	benchCIBOnce sync.Once
	benchCIBData []byte
	benchCIBName string
)

// benchCIB returns the document the parse benchmarks read: the file named
// by $CIB_BENCH_FILE (bench/run.sh points it at a gen_cib.py output), else
// an in-process 16 × 5000 synthetic CIB.
func benchCIB(b *testing.B) []byte {
	benchCIBOnce.Do(func() {
		if f := os.Getenv("CIB_BENCH_FILE"); f != "" {
			data, err := os.ReadFile(f)
			if err == nil {
				benchCIBData, benchCIBName = data, f
				return
			}
			fmt.Fprintf(os.Stderr, "CIB_BENCH_FILE: %v; using a generated CIB\n", err)
		}
		m := 5000
		if s := os.Getenv("CIB_BENCH_RESOURCES"); s != "" {
			if v, err := strconv.Atoi(s); err == nil && v > 0 {
				m = v
			}
		}
		benchCIBData, benchCIBName = genBenchCIB(16, m), fmt.Sprintf("generated 16x%d", m)
	})
	b.Logf("%s: %.1f MB", benchCIBName, float64(len(benchCIBData))/1e6)
	return benchCIBData
}

// BenchmarkParse is the whole CIB reader: XML tree plus typed model.
func BenchmarkParse(b *testing.B) {
	data := benchCIB(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseElement is the XML tree alone.
func BenchmarkParseElement(b *testing.B) {
	data := benchCIB(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseElement(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseElementStd is the former encoding/xml-based reader, for
// comparison.
func BenchmarkParseElementStd(b *testing.B) {
	data := benchCIB(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseElementStd(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseSequential is Parse without the parallel status split.
func BenchmarkParseSequential(b *testing.B) {
	data := benchCIB(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		root, err := parseElementSeq(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fromElement(root, true, nil); err != nil {
			b.Fatal(err)
		}
	}
}
