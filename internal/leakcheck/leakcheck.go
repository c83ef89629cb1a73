package leakcheck

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

const (
	// Timeout is how long [Main] and [Check] wait for extra goroutines to
	// exit before reporting them.
	Timeout = 5 * time.Second
	// pollInterval is the pause between two comparisons while waiting.
	pollInterval = 10 * time.Millisecond
)

// Main runs the tests of a package and then fails the binary if goroutines
// started during the run are still alive. Use it as the whole TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
//
// If the tests failed, Main exits with their code without checking, so leak
// reports never bury the real failure. Otherwise it waits up to [Timeout]
// for goroutines that were not running when Main was called to exit; if some
// remain, it prints their stacks to stderr and exits with status 1.
func Main(m *testing.M) {
	os.Exit(runMain(m, os.Stderr, Timeout))
}

// runner is the part of [testing.M] that Main uses; tests pass a fake.
type runner interface {
	Run() int
}

// runMain is Main without os.Exit.
func runMain(m runner, stderr io.Writer, timeout time.Duration) int {
	before := ids(snapshot())
	code := m.Run()
	if code != 0 {
		return code
	}
	if leaked := waitForLeaks(before, timeout); len(leaked) > 0 {
		fmt.Fprintf(stderr, "leakcheck: tests passed but %s\n", report(leaked, timeout))
		return 1
	}
	return code
}

// Check snapshots the running goroutines and returns a function that fails t
// unless the goroutines started since are gone. Call it first in a test and
// run the result after everything the test started has been shut down:
//
//	defer leakcheck.Check(t)()
//
// or, when the test registers its shutdown with t.Cleanup,
//
//	t.Cleanup(leakcheck.Check(t)) // before the other Cleanups: they run in reverse order
//
// The returned function waits up to [Timeout] for the extra goroutines to
// exit, then reports those left with t.Errorf and their full stacks. It must
// not be used with parallel tests (see the package documentation).
func Check(t testing.TB) func() {
	t.Helper()
	return check(t, Timeout)
}

// check is Check with a configurable timeout.
func check(t testing.TB, timeout time.Duration) func() {
	t.Helper()
	before := ids(snapshot())
	return func() {
		t.Helper()
		if leaked := waitForLeaks(before, timeout); len(leaked) > 0 {
			t.Errorf("leakcheck: %s", report(leaked, timeout))
		}
	}
}

// waitForLeaks polls until no goroutine outside before is left, or timeout
// has passed, and returns the extra goroutines of the last poll.
func waitForLeaks(before map[uint64]bool, timeout time.Duration) []goroutine {
	// The loop is bounded by its count, not only by the clock, so a stalled
	// clock cannot keep a test binary running.
	polls := int(timeout/pollInterval) + 1
	deadline := time.Now().Add(timeout)
	var leaked []goroutine
	for i := 0; i < polls; i++ {
		closeDefaultIdleConnections()
		leaked = extra(before, snapshot())
		if len(leaked) == 0 || !time.Now().Before(deadline) {
			break
		}
		time.Sleep(pollInterval)
	}
	return leaked
}

// extra returns the goroutines of now that are neither in before nor ignored.
// now[0] is the calling goroutine and is always ignored.
func extra(before map[uint64]bool, now []goroutine) []goroutine {
	var out []goroutine
	for i, g := range now {
		if i == 0 || before[g.id] || ignored(g) {
			continue
		}
		out = append(out, g)
	}
	return out
}

// ignored reports whether g belongs to the testing framework, the runtime or
// os/signal. Keep this list short: every entry is a blind spot.
func ignored(g goroutine) bool {
	entryPkg, creatorPkg := funcPackage(g.entry), funcPackage(g.createdBy)
	switch {
	case entryPkg == "testing" || creatorPkg == "testing":
		// testing.tRunner running a test, blocked in t.Run or t.Parallel.
		return true
	case entryPkg == "runtime" && (creatorPkg == "runtime" || g.createdBy == ""):
		// GC workers, finalizers, … shown only with GOTRACEBACK=system.
		// The creator matters: a goroutine that has not started yet shows
		// only runtime.goexit, whoever created it.
		return true
	case entryPkg == "os/signal":
		// os/signal.loop, started by the first signal.Notify, lives forever.
		return true
	}
	return false
}

// closeDefaultIdleConnections closes the idle keep-alive connections of
// http.DefaultTransport, so that their read and write loops exit and the
// default client's pool is tolerated without ignoring net/http by name.
func closeDefaultIdleConnections() {
	if c, ok := http.DefaultTransport.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// ids returns the set of goroutine ids in gs.
func ids(gs []goroutine) map[uint64]bool {
	m := make(map[uint64]bool, len(gs))
	for _, g := range gs {
		m[g.id] = true
	}
	return m
}

// report describes leaked goroutines with their full stacks.
func report(leaked []goroutine, timeout time.Duration) string {
	var b strings.Builder
	noun := "goroutines"
	if len(leaked) == 1 {
		noun = "goroutine"
	}
	fmt.Fprintf(&b, "%d %s still running after %v:\n", len(leaked), noun, timeout)
	for _, g := range leaked {
		fmt.Fprintf(&b, "\n%s\n", g.stack)
	}
	return b.String()
}
