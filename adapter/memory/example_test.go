package memory_test

import (
	"fmt"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/adaptertest"
	"github.com/gosio/gosio/adapter/memory"
	"github.com/gosio/gosio/socketio/parser"
)

// The memory adapter keeps rooms and delivers broadcasts to the local
// sockets; socketio uses it by default. Here it is driven directly, with
// the fake sockets of adaptertest.
func Example() {
	a := memory.NewAdapter(adaptertest.NewNamespace("/", nil))
	alice := adaptertest.NewSocket(a, "alice")
	bob := adaptertest.NewSocket(a, "bob")
	a.AddAll(alice, "alice", "lobby")
	a.AddAll(bob, "bob")

	p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: jsontext.Value(`["hello"]`)}
	_ = a.Broadcast(p, adapter.BroadcastOptions{Rooms: []string{"lobby"}})
	fmt.Println("alice:", alice.Delivered(), "bob:", bob.Delivered())
	_ = a.Broadcast(p, adapter.BroadcastOptions{Except: []string{"alice"}})
	fmt.Println("alice:", alice.Delivered(), "bob:", bob.Delivered())
	// Output:
	// alice: 1 bob: 0
	// alice: 1 bob: 1
}
