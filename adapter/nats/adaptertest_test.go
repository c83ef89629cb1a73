package natsadapter_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/adaptertest"
	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/adapter/nats/natsembed"
	"github.com/gosio/gosio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var prefixes atomic.Int64

// newPrefix returns a subject prefix no other test uses.
func newPrefix() string { return fmt.Sprintf("t%d", prefixes.Add(1)) }

// embedded starts an in-process NATS server for the test.
func embedded(t *testing.T, o *natsembed.Options) *natsembed.Server {
	t.Helper()
	srv, err := natsembed.Start(o)
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	return srv
}

// connect opens a NATS connection to srv, one per simulated server, as
// separate processes would have.
func connect(t *testing.T, srv *natsembed.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := srv.Connect(opts...)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// TestAdapterSuite runs the adapter conformance suite on the NATS
// adapter: one connection per server, over one embedded NATS server.
func TestAdapterSuite(t *testing.T) {
	srv := embedded(t, nil)
	adaptertest.Run(t, adaptertest.Harness{
		MaxServers: 3,
		Timeout:    10 * time.Second,
		NewCluster: func(t *testing.T, n int) []adapter.Factory {
			prefix := newPrefix()
			out := make([]adapter.Factory, n)
			for i := range out {
				out[i] = natsadapter.New(connect(t, srv), natsadapter.WithSubjectPrefix(prefix),
					natsadapter.WithHeartbeat(200*time.Millisecond, 2*time.Second))
			}
			return out
		},
	})
}
