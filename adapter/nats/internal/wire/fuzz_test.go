package wire

import (
	"errors"
	"testing"
)

func FuzzDecode(f *testing.F) {
	for _, m := range []*Message{
		{UID: "a", NSP: "/", Type: Heartbeat},
		{UID: "a", NSP: "/", Type: Broadcast, Data: &BroadcastData{Opts: testOpts, Packet: WirePacket{Type: 2, Data: []any{"e", []byte{1}}, ID: 1, HasID: true}, RequestID: "r"}},
		{UID: "a", NSP: "/", Type: FetchSocketsResponse, Data: &FetchSocketsResponseData{RequestID: "r", Sockets: []Socket{{ID: "s", Handshake: Handshake{Headers: map[string][]string{"a": {"b"}}}}}}},
		{UID: "a", NSP: "/", Type: ServerSideEmit, Data: &ServerSideEmitData{RequestID: "r", Packet: []any{"e", 1.5}}},
	} {
		b, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("error does not wrap ErrInvalidMessage: %v", err)
			}
			return
		}
		out, err := Encode(m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := Decode(out); err != nil {
			t.Fatalf("decode of re-encoded message: %v", err)
		}
		if d, ok := m.Data.(*BroadcastData); ok {
			if p, err := PacketFromWire(d.Packet, m.NSP); err == nil {
				_, _ = PacketToWire(p)
			}
		}
	})
}
