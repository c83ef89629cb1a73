package natsadapter_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/adapter/nats/natsembed"
)

// connLogBuffer is a log sink safe for concurrent writes.
type connLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *connLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *connLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Connect reconnects for ever and logs the connection's ups and downs.
func TestConnect_LogsDisconnection(t *testing.T) {
	srv, err := natsembed.Start(&natsembed.Options{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	var logs connLogBuffer
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
