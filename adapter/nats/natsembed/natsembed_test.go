package natsembed

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/internal/syncbuf"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func start(t *testing.T, o *Options) *Server {
	t.Helper()
	s, err := Start(o)
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	return s
}

func roundTrip(t *testing.T, nc *nats.Conn) {
	t.Helper()
	sub, err := nc.SubscribeSync("gosio.test")
	require.NoError(t, err)
	require.NoError(t, nc.Publish("gosio.test", []byte("hello")))
	msg, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(msg.Data))
}

// RELIABILITY row 39: by default the embedded server listens on no
// network interface at all; only in-process connections work.
func TestStart_InProcessOnlyByDefault(t *testing.T) {
	s := start(t, nil)
	assert.Empty(t, s.ClientURL())
	assert.Nil(t, s.NATS().Addr(), "no TCP listener")
	nc, err := s.Connect()
	require.NoError(t, err)
	defer nc.Close()
	roundTrip(t, nc)
}

func TestStart_LoopbackListener(t *testing.T) {
	s := start(t, &Options{Addr: "127.0.0.1:0"})
	url := s.ClientURL()
	require.True(t, strings.HasPrefix(url, "nats://127.0.0.1:"), url)
	nc, err := nats.Connect(url, nats.Timeout(10*time.Second))
	require.NoError(t, err)
	defer nc.Close()
	roundTrip(t, nc)
}

func TestStart_NonLoopbackRefused(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:4222", ":4222"} {
		_, err := Start(&Options{Addr: addr})
		assert.ErrorIs(t, err, ErrNonLoopback, addr)
	}
	for _, addr := range []string{"127.0.0.1", "127.0.0.1:x", "127.0.0.1:70000"} {
		_, err := Start(&Options{Addr: addr})
		assert.Error(t, err, addr)
		assert.False(t, errors.Is(err, ErrNonLoopback), addr)
	}
}

func TestMaxPayload(t *testing.T) {
	s := start(t, &Options{MaxPayload: 1024})
	nc, err := s.Connect()
	require.NoError(t, err)
	defer nc.Close()
	assert.Equal(t, int64(1024), nc.MaxPayload())
	assert.ErrorIs(t, nc.Publish("gosio.big", make([]byte, 2048)), nats.ErrMaxPayload)
	roundTrip(t, nc)
}

func TestLogsGoToSlog(t *testing.T) {
	var buf syncbuf.Buffer
	s := start(t, &Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	s.Shutdown()
	assert.Contains(t, buf.String(), "component=nats-server")
	assert.Contains(t, buf.String(), "level=INFO")
}

func TestShutdownClosesClients(t *testing.T) {
	s, err := Start(nil)
	require.NoError(t, err)
	closed := make(chan struct{})
	nc, err := s.Connect(nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	require.NoError(t, err)
	s.Shutdown()
	s.Shutdown() // idempotent
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("client not closed by Shutdown")
	}
	assert.True(t, nc.IsClosed())
}
