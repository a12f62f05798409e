// Command testreport runs `go test -json` with the given arguments and
// prints what plain `go test` prints (a line per package, the output of
// failing tests), then every skipped test with its reason and the slowest
// tests, so that a skip is never silent. It exits with go test's status.
//
// The test binaries of the run share one temporary directory, named by
// RELGEN_TEST_SHARED (internal/testutil.Shared), for what is costly to
// make and the same for all: the Debian packages of the example images, a
// relgen binary. It is removed at the end; a RELGEN_TEST_SHARED set by the
// caller is used as it is and kept.
//
//	go run ./hack/testreport -race ./...
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// sharedEnv is internal/testutil.SharedEnv (not imported: it would bring
// the test helpers' dependencies into this command).
const sharedEnv = "RELGEN_TEST_SHARED"

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string
	FailedBuild string
}

func main() {
	os.Exit(run())
}

func run() int {
	cmd := exec.Command("go", append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr
	if os.Getenv(sharedEnv) == "" {
		dir, err := os.MkdirTemp("", "relgen-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			return 2
		}
		defer func() { _ = os.RemoveAll(dir) }()
		cmd.Env = append(os.Environ(), sharedEnv+"="+dir)
	}
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		return 2
	}
	start := time.Now()
	r := newReport(os.Stdout)
	if err := r.read(out); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
	}
	err = cmd.Wait()
	r.summary(time.Since(start))
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, "testreport:", err)
		return 2
	}
	return 0
}

// report collects the events of one run.
type report struct {
	w       io.Writer
	outputs map[string][]string // package + test -> output lines so far
	skips   []result
	passed  []result
	failed  int
}

type result struct {
	pkg, test string
	elapsed   float64
	lines     []string
}

func newReport(w io.Writer) *report {
	return &report{w: w, outputs: map[string][]string{}}
}

func (r *report) read(in io.Reader) error {
	s := bufio.NewScanner(in)
	s.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for s.Scan() {
		var e event
		if err := json.Unmarshal(s.Bytes(), &e); err != nil {
			fmt.Fprintln(r.w, s.Text()) // not an event: pass it on
			continue
		}
		r.add(e)
	}
	return s.Err()
}

func (r *report) add(e event) {
	if e.Action == "build-output" {
		fmt.Fprint(r.w, e.Output)
		return
	}
	if e.Test == "" {
		// Package lines are what plain go test prints: ok, FAIL, "?" and
		// a failing test binary's own output.
		if e.Action == "output" && !strings.HasPrefix(e.Output, "=== ") && !isVerboseOnly(e.Output) {
			fmt.Fprint(r.w, e.Output)
		}
		return
	}
	key := e.Package + " " + e.Test
	switch e.Action {
	case "output":
		r.outputs[key] = append(r.outputs[key], e.Output)
	case "skip":
		r.skips = append(r.skips, result{pkg: e.Package, test: e.Test, elapsed: e.Elapsed, lines: reason(r.outputs[key])})
		delete(r.outputs, key)
	case "pass":
		r.passed = append(r.passed, result{pkg: e.Package, test: e.Test, elapsed: e.Elapsed})
		delete(r.outputs, key)
	case "fail":
		r.failed++
		for _, l := range r.outputs[key] {
			if !strings.HasPrefix(l, "=== ") {
				fmt.Fprint(r.w, l)
			}
		}
		delete(r.outputs, key)
	}
}

// isVerboseOnly reports package output lines that go test -v would print
// and plain go test would not.
func isVerboseOnly(line string) bool {
	return line == "PASS\n" || strings.HasPrefix(line, "--- PASS") || strings.HasPrefix(line, "--- SKIP")
}

// reason keeps the lines a skipped test logged, without the framing.
func reason(lines []string) []string {
	var out []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		out = append(out, t)
	}
	return out
}

func (r *report) summary(wall time.Duration) {
	fmt.Fprintf(r.w, "\n%d tests passed, %d failed, %d skipped in %.0fs\n", len(r.passed), r.failed, len(r.skips), wall.Seconds())
	if len(r.skips) > 0 {
		fmt.Fprintln(r.w, "skipped:")
		for _, s := range r.skips {
			why := strings.Join(s.lines, " / ")
			if why == "" {
				why = "(no reason given)"
			}
			fmt.Fprintf(r.w, "  %s %s: %s\n", short(s.pkg), s.test, why)
		}
	}
	// Subtests count too: a parent whose subtests run in parallel reports
	// only its own part.
	top := slices.Clone(r.passed)
	slices.SortFunc(top, func(a, b result) int { return int((b.elapsed - a.elapsed) * 1000) })
	if len(top) > 5 {
		top = top[:5]
	}
	if len(top) > 0 {
		fmt.Fprintln(r.w, "slowest:")
		for _, p := range top {
			fmt.Fprintf(r.w, "  %6.1fs %s %s\n", p.elapsed, short(p.pkg), p.test)
		}
	}
}

func short(pkg string) string { return strings.TrimPrefix(pkg, "github.com/relgen/relgen/") }
