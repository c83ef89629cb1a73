package socketio

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/memory"
	"github.com/gosio/gosio/socketio/parser"
)

// closeTracking is a memory adapter that refuses broadcasts once closed,
// as a cluster adapter does.
type closeTracking struct {
	*memory.Adapter
	closed atomic.Bool
}

func (a *closeTracking) Broadcast(p *parser.Packet, opts adapter.BroadcastOptions) error {
	if a.closed.Load() {
		return adapter.ErrClosed
	}
	return a.Adapter.Broadcast(p, opts)
}

func (a *closeTracking) Close() error { a.closed.Store(true); return a.Adapter.Close() }

// The disconnect handlers run at Shutdown before the adapters close, so
// that they can still tell the other servers (Node's order).
func TestShutdown_DisconnectHandlersBeforeAdapterClose(t *testing.T) {
	srv, url := newTestServer(t, &Options{Adapter: func(ns adapter.Namespace) (adapter.Adapter, error) {
		return &closeTracking{Adapter: memory.NewAdapter(ns)}, nil
	}})
	results := make(chan error, 2)
	srv.OnDisconnect(func(s *Socket, r Reason) {
		results <- srv.Emit("left", s.ID())
	})
	c := dial(t, url)
	c.connect("/")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	assert.NoError(t, recv(t, results), "the disconnect handler's broadcast ran on an open adapter")
}

// A failing adapter factory makes New fail (it used to panic).
func TestNew_AdapterError(t *testing.T) {
	boom := errors.New("no bus")
	srv, err := New(&Options{Adapter: func(adapter.Namespace) (adapter.Adapter, error) { return nil, boom }})
	assert.Nil(t, srv)
	assert.ErrorIs(t, err, boom)
}
