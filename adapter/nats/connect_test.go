package natsadapter_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/adapter/nats/natsembed"
	"github.com/gosio/gosio/internal/syncbuf"
)

// Connect reconnects for ever and logs the connection's ups and downs.
func TestConnect_LogsDisconnection(t *testing.T) {
	srv, err := natsembed.Start(&natsembed.Options{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	var logs syncbuf.Buffer
	nc, err := natsadapter.Connect(srv.ClientURL(), slog.New(slog.NewTextHandler(&logs, nil)), nats.ReconnectWait(20*time.Millisecond))
	require.NoError(t, err)
	defer nc.Close()
	assert.Equal(t, -1, nc.Opts.MaxReconnect, "reconnects for ever")
	assert.True(t, nc.Opts.RetryOnFailedConnect)
	require.NoError(t, nc.Flush())

	srv.Shutdown()
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "disconnected from NATS") },
		10*time.Second, 10*time.Millisecond, "logs: %s", logs.String())
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Equal(t, nats.RECONNECTING, nc.Status(), "still trying")
}

func TestConnect_BadURL(t *testing.T) {
	_, err := natsadapter.Connect("nats://[::1", nil)
	assert.ErrorContains(t, err, "natsadapter: connect")
}

// Closing (or draining) the connection on purpose is not worth a warning.
func TestConnect_QuietOnClose(t *testing.T) {
	srv := embedded(t, &natsembed.Options{Addr: "127.0.0.1:0"})
	var logs syncbuf.Buffer
	for _, drain := range []bool{true, false} {
		// The closed callback runs after the disconnect callback, on the
		// same queue: once it has run, any warning would be logged.
		closed := make(chan struct{})
		nc, err := natsadapter.Connect(srv.ClientURL(), slog.New(slog.NewTextHandler(&logs, nil)),
			nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
		require.NoError(t, err)
		if drain {
			require.NoError(t, nc.Drain())
		} else {
			nc.Close()
		}
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the connection never closed")
		}
	}
	assert.NotContains(t, logs.String(), "disconnected from NATS")
}
