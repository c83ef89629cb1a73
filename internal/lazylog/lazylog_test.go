package lazylog_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gosio/gosio/internal/lazylog"
	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/internal/syncbuf"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// The output is the same as with slog.Logger.With, through groups,
// nested loggers and levels.
func TestSameOutputAsWith(t *testing.T) {
	var a, b bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	eager := slog.New(slog.NewTextHandler(&a, opts)).With("component", "x")
	lazy := slog.New(slog.NewTextHandler(&b, opts)).With("component", "x")

	e1 := eager.With("sid", "abc")
	l1 := lazylog.With(lazy, slog.String("sid", "abc"))
	e2 := e1.With("nsp", "/", "socket_id", "s1")
	l2 := lazylog.With(l1, slog.String("nsp", "/"), slog.String("socket_id", "s1"))
	for _, p := range []struct{ e, l *slog.Logger }{{e1, l1}, {e2, l2}, {e2.WithGroup("g").With("k", 1), l2.WithGroup("g").With("k", 1)}} {
		p.e.Debug("hidden", "n", 1)
		p.l.Debug("hidden", "n", 1)
		p.e.Info("shown", "n", 2)
		p.l.Info("shown", "n", 2)
		p.e.Error("again", "err", "boom")
		p.l.Error("again", "err", "boom")
	}
	assert.Equal(t, a.String(), b.String())
	assert.NotContains(t, b.String(), "hidden")
	assert.Equal(t, 6, strings.Count(b.String(), "\n"))
}

// countingHandler counts WithAttrs calls.
type countingHandler struct {
	slog.Handler
	mu        *sync.Mutex
	withAttrs *int
}

func (h countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.mu.Lock()
	*h.withAttrs++
	h.mu.Unlock()
	return countingHandler{Handler: h.Handler.WithAttrs(as), mu: h.mu, withAttrs: h.withAttrs}
}

// The handler formats the attributes only when a record is handled, once,
// even with concurrent records.
func TestDeferredAndOnce(t *testing.T) {
	var n int
	var buf syncbuf.Buffer
	base := slog.New(countingHandler{Handler: slog.NewTextHandler(&buf, nil), mu: &sync.Mutex{}, withAttrs: &n})
	l := lazylog.With(base, slog.String("sid", "abc"))
	l.Debug("below the level")
	assert.False(t, l.Enabled(context.Background(), slog.LevelDebug))
	assert.Equal(t, 0, n, "nothing logged yet")

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { l.Info("hello") })
	}
	wg.Wait()
	assert.Equal(t, 1, n)
	assert.Equal(t, 8, strings.Count(buf.String(), "sid=abc"))
}

func ExampleWith() {
	base := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	conn := lazylog.With(base, slog.String("sid", "abc"))
	conn.Debug("not formatted, not written")
	conn.Info("connected")
	// Output: level=INFO msg=connected sid=abc
}
