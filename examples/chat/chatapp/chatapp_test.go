package chatapp

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int]string{2 << 20: "2 MiB", 192 << 10: "192 KiB", 1000: "1000 bytes"} {
		assert.Equal(t, want, formatBytes(n))
	}
}

func TestNewHandler_BadMaxImageBytes(t *testing.T) {
	for _, n := range []int{-1, MaxImageBytes + 1} {
		_, _, err := NewHandler(&Options{MaxImageBytes: n, Logger: slog.New(slog.DiscardHandler)})
		assert.Error(t, err, n)
	}
}

// An adapter that cannot start (the NATS adapter with a bad subject
// prefix, or NATS refusing its subscriptions) is an error of NewHandler.
//
// KNOWN BUG, this test fails: socketio.New (socketio/server.go) creates
// the main namespace with srv.Of("/"), which panics when the adapter
// factory fails, instead of returning the error New's signature promises.
func TestNewHandler_AdapterError(t *testing.T) {
	errBroken := errors.New("broken adapter")
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
				t.Errorf("NewHandler panicked instead of returning an error: %v", p)
			}
		}()
		_, _, err = NewHandler(&Options{
			Logger:  slog.New(slog.DiscardHandler),
			Adapter: func(adapter.Namespace) (adapter.Adapter, error) { return nil, errBroken },
		})
	}()
	assert.ErrorIs(t, err, errBroken)
}
