package adaptertest_test

import (
	"fmt"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/adaptertest"
	"github.com/gosio/gosio/adapter/memory"
	"github.com/gosio/gosio/socketio/parser"
)

// harness describes the adapter under test to the suite. The memory
// adapter serves a single process: MaxServers is 1, and its cluster is its
// Factory alone. A cluster adapter would start what its servers share
// (for NATS, an embedded server with t.Cleanup) and return one factory per
// server, each with its own connection, and set MaxServers to 3.
var harness = adaptertest.Harness{
	MaxServers: 1,
	NewCluster: func(t *testing.T, n int) []adapter.Factory {
		return []adapter.Factory{memory.New}
	},
}

// In the adapter's package, one test function runs the whole suite
// (adapter/memory does exactly this):
//
//	func TestAdapter(t *testing.T) { adaptertest.Run(t, harness) }
//
// The fakes the suite drives the adapter with are exported for the
// adapter's own tests, as here.
func Example() {
	ns := adaptertest.NewNamespace("/", nil)
	a, err := memory.New(ns)
	if err != nil {
		panic(err)
	}
	defer a.Close()

	alice := adaptertest.NewSocket(a, "alice")
	bob := adaptertest.NewSocket(a, "bob")
	a.AddAll(alice, "alice", "news")
	a.AddAll(bob, "bob")
	bob.Join("news", "sport")

	p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: jsontext.Value(`["headline","hello"]`)}
	_ = a.Broadcast(p, adapter.BroadcastOptions{Rooms: []string{"news"}, Except: []string{"alice"}})

	for _, s := range []*adaptertest.Socket{alice, bob} {
		fmt.Printf("%s: %d packet(s), calls %v\n", s.ID(), len(s.Deliveries()), s.Calls())
	}
	d := bob.Deliveries()[0]
	fmt.Printf("frame %s\n", d.Encoded.Messages[0].Data())
	// Output:
	// alice: 0 packet(s), calls []
	// bob: 1 packet(s), calls [Join Deliver]
	// frame 2["headline","hello"]
}
