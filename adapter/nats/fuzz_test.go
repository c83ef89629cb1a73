package natsadapter

import (
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/nats-io/nats.go"

	"github.com/gosio/gosio/adapter/adaptertest"
	"github.com/gosio/gosio/adapter/nats/internal/wire"
	"github.com/gosio/gosio/adapter/nats/natsembed"
)

// FuzzMessages feeds arbitrary bytes to both message callbacks of a live
// adapter, as anyone with access to the subjects could (RELIABILITY row
// 35): nothing may panic, whatever the decoder lets through.
func FuzzMessages(f *testing.F) {
	opts := wire.Opts{Rooms: []string{"r"}, Except: []string{}}
	ev := wire.WirePacket{Type: wire.PacketEvent, Data: []any{"e", []byte{1, 2}, map[string]any{"k": 1.5}}, Nsp: "/"}
	evAck := ev
	evAck.ID, evAck.HasID = 7, true
	for _, m := range []*wire.Message{
		{Type: wire.InitialHeartbeat},
		{Type: wire.Heartbeat},
		{Type: wire.AdapterClose},
		{Type: wire.Broadcast, Data: &wire.BroadcastData{Opts: opts, Packet: ev}},
		{Type: wire.Broadcast, Data: &wire.BroadcastData{Opts: wire.Opts{Rooms: []string{}, Except: []string{"x"}}, Packet: evAck, RequestID: "q"}},
		{Type: wire.Broadcast, Data: &wire.BroadcastData{Opts: opts, Packet: wire.WirePacket{Type: 0, Data: map[string]any{}}}},
		{Type: wire.SocketsJoin, Data: &wire.SocketsRoomsData{Opts: opts, Rooms: []string{"a", "b"}}},
		{Type: wire.SocketsLeave, Data: &wire.SocketsRoomsData{Opts: opts, Rooms: []string{"r"}}},
		{Type: wire.DisconnectSockets, Data: &wire.DisconnectSocketsData{Opts: opts, Close: true}},
		{Type: wire.FetchSockets, Data: &wire.FetchSocketsData{Opts: opts, RequestID: "q"}},
		{Type: wire.FetchSocketsResponse, Data: &wire.FetchSocketsResponseData{RequestID: "q", Sockets: []wire.Socket{{ID: "s", Rooms: []string{"s"}, Data: map[string]any{"a": []byte{0}}}}}},
		{Type: wire.ServerSideEmit, Data: &wire.ServerSideEmitData{Packet: []any{"hello", []byte{9}}}},
		{Type: wire.ServerSideEmit, Data: &wire.ServerSideEmitData{RequestID: "q", Packet: []any{}}},
		{Type: wire.ServerSideEmitResponse, Data: &wire.ServerSideEmitResponseData{RequestID: "q", Packet: "x", Args: []any{"x", 2}}},
		{Type: wire.BroadcastClientCount, Data: &wire.BroadcastClientCountData{RequestID: "q", ClientCount: 3}},
		{Type: wire.BroadcastAck, Data: &wire.BroadcastAckData{RequestID: "q", Packet: []byte{1}}},
	} {
		m.UID, m.NSP = "peer", "/"
		b, err := wire.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}

	bus, err := natsembed.Start(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(bus.Shutdown)
	nc, err := bus.Connect()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(nc.Close)
	cfg, err := newConfig([]Option{WithRequestTimeout(50 * time.Millisecond), WithSubjectPrefix("fuzz")})
	if err != nil {
		f.Fatal(err)
	}
	ns := adaptertest.NewNamespace("/", func(data jsontext.Value, atts [][]byte) (jsontext.Value, [][]byte) { return data, atts })
	a, err := start(nc, ns, cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = a.Close() })

	f.Fuzz(func(t *testing.T, b []byte) {
		// A fresh socket each time: the fake records what it is asked.
		s := adaptertest.NewSocket(a, "s")
		a.AddAll(s, "s", "r")
		defer a.DelAll("s")
		a.onMessage(&nats.Msg{Subject: a.subject, Data: b})
		a.onResponse(&nats.Msg{Subject: a.inbox, Data: b})
	})
}
