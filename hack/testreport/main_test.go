package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReport feeds a recorded `go test -json` stream through the report:
// package lines and a failing test's output pass through, skips are listed
// with their reasons, passing tests stay quiet.
func TestReport(t *testing.T) {
	stream := `{"Action":"start","Package":"example.com/m/a"}
{"Action":"run","Package":"example.com/m/a","Test":"TestOK"}
{"Action":"output","Package":"example.com/m/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"example.com/m/a","Test":"TestOK","Output":"--- PASS: TestOK (1.50s)\n"}
{"Action":"pass","Package":"example.com/m/a","Test":"TestOK","Elapsed":1.5}
{"Action":"run","Package":"example.com/m/a","Test":"TestTool"}
{"Action":"output","Package":"example.com/m/a","Test":"TestTool","Output":"=== RUN   TestTool\n"}
{"Action":"output","Package":"example.com/m/a","Test":"TestTool","Output":"    tool_test.go:12: skopeo not on PATH\n"}
{"Action":"output","Package":"example.com/m/a","Test":"TestTool","Output":"--- SKIP: TestTool (0.00s)\n"}
{"Action":"skip","Package":"example.com/m/a","Test":"TestTool","Elapsed":0}
{"Action":"run","Package":"example.com/m/a","Test":"TestBad"}
{"Action":"output","Package":"example.com/m/a","Test":"TestBad","Output":"=== RUN   TestBad\n"}
{"Action":"output","Package":"example.com/m/a","Test":"TestBad","Output":"    bad_test.go:7: got 1, want 2\n"}
{"Action":"output","Package":"example.com/m/a","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"fail","Package":"example.com/m/a","Test":"TestBad","Elapsed":0}
{"Action":"output","Package":"example.com/m/a","Output":"FAIL\n"}
{"Action":"output","Package":"example.com/m/a","Output":"FAIL\texample.com/m/a\t1.6s\n"}
{"Action":"fail","Package":"example.com/m/a","Elapsed":1.6}
{"Action":"output","Package":"example.com/m/b","Output":"?   \texample.com/m/b\t[no test files]\n"}
not json
`
	var out bytes.Buffer
	r := newReport(&out)
	if err := r.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	r.summary(0)
	want := `    bad_test.go:7: got 1, want 2
--- FAIL: TestBad (0.00s)
FAIL
FAIL	example.com/m/a	1.6s
?   	example.com/m/b	[no test files]
not json

1 tests passed, 1 failed, 1 skipped in 0s
skipped:
  example.com/m/a TestTool: tool_test.go:12: skopeo not on PATH
slowest:
     1.5s example.com/m/a TestOK
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}
