package natsadapter_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/adaptertest"
	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/socketio/parser"
)

// TestValuesKeepKeyOrder checks that JSON crosses servers byte for byte:
// object keys in their order (not sorted), integers as written, binary
// attachments in place, for a broadcast, a server-side emit and its ack.
func TestValuesKeepKeyOrder(t *testing.T) {
	srv := embedded(t, nil)
	prefix := newPrefix()
	reply := func(data jsontext.Value, atts [][]byte) (jsontext.Value, [][]byte) {
		return jsontext.Value(`[{"z":{"y":1,"x":[2,{"w":null}]},"a":"ok","n":9007199254740993}]`), nil
	}
	var adapters [2]adapter.Adapter
	var namespaces [2]*adaptertest.Namespace
	for i := range adapters {
		namespaces[i] = adaptertest.NewNamespace("/", reply)
		a, err := natsadapter.New(connect(t, srv), natsadapter.WithSubjectPrefix(prefix),
			natsadapter.WithHeartbeat(200*time.Millisecond, 2*time.Second))(namespaces[i])
		require.NoError(t, err)
		t.Cleanup(func() { _ = a.Close() })
		adapters[i] = a
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		n, err := adapters[0].ServerCount(ctx)
		require.NoError(t, err)
		if n == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the servers never saw each other")
		case <-time.After(20 * time.Millisecond):
		}
	}

	remote := adaptertest.NewSocket(adapters[1], "remote")
	adapters[1].AddAll(remote, "remote")

	// A broadcast: the fake socket on the other server gets the same bytes.
	data := `["chat",{"nick":"ann","text":"hello","at":1700000000000,"meta":{"z":true,"b":[1.5,-7,{"k":"v","a":null}],"a":"é\ud800"},"bin":{"_placeholder":true,"num":0}}]`
	sent := &parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: jsontext.Value(data), Attachments: [][]byte{{1, 2, 3}}}
	require.NoError(t, adapters[0].Broadcast(sent, adapter.BroadcastOptions{}))
	deadline := time.Now().Add(10 * time.Second)
	for remote.Delivered() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the fake: it has no signal
	}
	deliveries := remote.Deliveries()
	require.Len(t, deliveries, 1, "broadcast not delivered to the other server")
	got := deliveries[0].Encoded.Packet
	assert.Equal(t, data, string(got.Data), "JSON changed on the way")
	assert.Equal(t, parser.BinaryEvent, got.Type)
	assert.Equal(t, [][]byte{{1, 2, 3}}, got.Attachments)

	// A server-side emit with ack: the event and the answer keep their bytes.
	emit := `["hello",{"zz":1,"aa":{"q":2,"p":[{"d":0,"c":1}]}}]`
	responses, err := adapters[0].ServerSideEmitWithAck(ctx, jsontext.Value(emit), nil)
	require.NoError(t, err)
	require.Len(t, responses, 1)
	assert.Equal(t, `[{"z":{"y":1,"x":[2,{"w":null}]},"a":"ok","n":9007199254740993}]`, string(responses[0].Data))
	events := namespaces[1].Events()
	require.Len(t, events, 1)
	assert.Equal(t, emit, string(events[0].Data))
}
