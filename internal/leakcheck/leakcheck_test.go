package leakcheck

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { Main(m) }

// shortTimeout keeps the tests that expect a leak fast.
const shortTimeout = 100 * time.Millisecond

// recordingTB is a testing.TB whose Errorf records instead of failing.
type recordingTB struct {
	testing.TB // the real test, for Helper and the unexported method

	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) recorded() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// leakyWorker blocks until release is closed; its name must show up in reports.
func leakyWorker(release <-chan struct{}, done chan<- struct{}) {
	<-release
	close(done)
}

// startLeak starts a leakyWorker and returns a func that releases it and
// waits for it to exit.
func startLeak() (stop func()) {
	release, done := make(chan struct{}), make(chan struct{})
	go leakyWorker(release, done)
	return func() {
		close(release)
		<-done
	}
}

func TestCheck_ReportsLeakedGoroutine(t *testing.T) {
	rec := &recordingTB{TB: t}
	verify := check(rec, shortTimeout)
	stop := startLeak()
	verify()
	stop()

	errs := rec.recorded()
	require.Len(t, errs, 1, "Check must report the blocked goroutine exactly once")
	assert.Contains(t, errs[0], "leakcheck: 1 goroutine still running after 100ms")
	assert.Contains(t, errs[0], "[chan receive]", "the report carries the goroutine header")
	assert.Contains(t, errs[0], "leakcheck.leakyWorker(", "the report carries the full stack")
	assert.Contains(t, errs[0], "created by github.com/gosio/gosio/internal/leakcheck.startLeak")
}

func TestCheck_WaitsForExitingGoroutines(t *testing.T) {
	// The goroutine is released while Check waits: it is not reported, and
	// Check returns as soon as it is gone instead of after Timeout.
	rec := &recordingTB{TB: t}
	verify := Check(rec)
	stop := startLeak()
	time.AfterFunc(50*time.Millisecond, stop)

	start := time.Now()
	verify()
	assert.Empty(t, rec.recorded())
	assert.Less(t, time.Since(start), Timeout, "Check must return as soon as the goroutine exits")
}

func TestCheck_Clean(t *testing.T) {
	rec := &recordingTB{TB: t}
	verify := Check(rec)
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
	verify()
	assert.Empty(t, rec.recorded())
}

func TestCheck_IgnoresGoroutinesFromSnapshot(t *testing.T) {
	stop := startLeak()
	defer stop()

	rec := &recordingTB{TB: t}
	check(rec, shortTimeout)()
	assert.Empty(t, rec.recorded(), "a goroutine running before Check is not a leak of this test")
}

func TestCheck_ToleratesDefaultTransportIdlePool(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()

	rec := &recordingTB{TB: t}
	verify := check(rec, time.Second)
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	// The connection is now idle in http.DefaultTransport's pool, with a
	// readLoop and a writeLoop goroutine, and a conn.serve goroutine on the
	// server side.
	verify()
	assert.Empty(t, rec.recorded())
}

func TestCheck_ReportsOwnTransportIdlePool(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()

	rec := &recordingTB{TB: t}
	verify := check(rec, shortTimeout)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	verify()

	errs := rec.recorded()
	require.Len(t, errs, 1, "an idle pool of a Transport the test created is a leak")
	assert.Contains(t, errs[0], "net/http.(*persistConn).readLoop")
	assert.Contains(t, errs[0], "net/http.(*persistConn).writeLoop")
}

// fakeM is a testing.M stand-in for runMain.
type fakeM struct {
	run func() int
}

func (m fakeM) Run() int { return m.run() }

func TestRunMain(t *testing.T) {
	t.Run("leak fails passing tests", func(t *testing.T) {
		var stop func()
		var stderr bytes.Buffer
		code := runMain(fakeM{run: func() int { stop = startLeak(); return 0 }}, &stderr, shortTimeout)
		stop()
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr.String(), "leakcheck: tests passed but 1 goroutine still running")
		assert.Contains(t, stderr.String(), "leakcheck.leakyWorker(")
	})
	t.Run("failing tests keep their code and skip the check", func(t *testing.T) {
		var stop func()
		var stderr bytes.Buffer
		start := time.Now()
		code := runMain(fakeM{run: func() int { stop = startLeak(); return 3 }}, &stderr, time.Minute)
		stop()
		assert.Equal(t, 3, code)
		assert.Empty(t, stderr.String())
		assert.Less(t, time.Since(start), time.Minute)
	})
	t.Run("clean run passes", func(t *testing.T) {
		var stderr bytes.Buffer
		code := runMain(fakeM{run: func() int { return 0 }}, &stderr, shortTimeout)
		assert.Equal(t, 0, code)
		assert.Empty(t, stderr.String())
	})
}
