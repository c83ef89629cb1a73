package wire

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/socketio/parser"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// normalize turns the library's sized integers into int64.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = normalize(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case uint64:
		return int64(v)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

func rawMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := msgpack.Unmarshal(b, &m); err != nil {
		t.Fatalf("library decode: %v", err)
	}
	return normalize(m).(map[string]any)
}

var testOpts = Opts{Rooms: []string{"r1"}, Except: []string{"x"}, Flags: Flags{Volatile: true, Compress: ptr(false), Local: true, Timeout: 1500}}

var testOptsRaw = map[string]any{
	"rooms": []any{"r1"}, "except": []any{"x"},
	"flags": map[string]any{"volatile": true, "compress": false, "local": true, "timeout": int64(1500)},
}

func TestEncodeDecode(t *testing.T) {
	for _, tt := range []struct {
		name string
		msg  Message
		data map[string]any // expected raw data; nil for none
	}{
		{"initial heartbeat", Message{Type: InitialHeartbeat}, nil},
		{"heartbeat", Message{Type: Heartbeat}, nil},
		{"adapter close", Message{Type: AdapterClose}, nil},
		{"broadcast", Message{Type: Broadcast, Data: &BroadcastData{Opts: testOpts,
			Packet: WirePacket{Type: 2, Data: []any{"ev", int64(1), []byte{1, 2}}, Nsp: "/"}}},
			map[string]any{"opts": testOptsRaw, "packet": map[string]any{"type": int64(2), "data": []any{"ev", int64(1), []byte{1, 2}}, "nsp": "/"}}},
		{"broadcast ack", Message{Type: Broadcast, Data: &BroadcastData{Opts: Opts{Rooms: []string{}, Except: []string{}},
			Packet: WirePacket{Type: 2, Data: []any{"ev"}, ID: 7, HasID: true}, RequestID: "abc"}},
			map[string]any{"opts": map[string]any{"rooms": []any{}, "except": []any{}, "flags": map[string]any{}},
				"packet": map[string]any{"type": int64(2), "data": []any{"ev"}, "id": int64(7)}, "requestId": "abc"}},
		{"sockets join", Message{Type: SocketsJoin, Data: &SocketsRoomsData{Opts: testOpts, Rooms: []string{"a", "b"}}},
			map[string]any{"opts": testOptsRaw, "rooms": []any{"a", "b"}}},
		{"sockets leave", Message{Type: SocketsLeave, Data: &SocketsRoomsData{Opts: testOpts, Rooms: []string{"a"}}},
			map[string]any{"opts": testOptsRaw, "rooms": []any{"a"}}},
		{"disconnect", Message{Type: DisconnectSockets, Data: &DisconnectSocketsData{Opts: testOpts, Close: true}},
			map[string]any{"opts": testOptsRaw, "close": true}},
		{"fetch", Message{Type: FetchSockets, Data: &FetchSocketsData{Opts: testOpts, RequestID: "r"}},
			map[string]any{"opts": testOptsRaw, "requestId": "r"}},
		{"fetch response", Message{Type: FetchSocketsResponse, Data: &FetchSocketsResponseData{RequestID: "r", Sockets: []Socket{{
			ID: "s1", Rooms: []string{"s1", "room"}, Data: Object{{"k", "v"}},
			Handshake: Handshake{Headers: map[string][]string{"host": {"h"}, "x": {"1", "2"}}, Time: "t", Address: "::1",
				XDomain: true, Secure: true, Issued: 1700000000000, URL: "/socket.io/?EIO=4", Query: map[string][]string{"EIO": {"4"}},
				Auth: Object{{"token", "z"}}}}}}},
			map[string]any{"requestId": "r", "sockets": []any{map[string]any{
				"id": "s1", "rooms": []any{"s1", "room"}, "data": map[string]any{"k": "v"},
				"handshake": map[string]any{"headers": map[string]any{"host": "h", "x": []any{"1", "2"}}, "time": "t",
					"address": "::1", "xdomain": true, "secure": true, "issued": int64(1700000000000),
					"url": "/socket.io/?EIO=4", "query": map[string]any{"EIO": "4"}, "auth": map[string]any{"token": "z"}}}}}},
		{"server side emit", Message{Type: ServerSideEmit, Data: &ServerSideEmitData{Packet: []any{"hello", "w"}}},
			map[string]any{"packet": []any{"hello", "w"}}},
		{"server side emit ack", Message{Type: ServerSideEmit, Data: &ServerSideEmitData{RequestID: "q", Packet: []any{"hello"}}},
			map[string]any{"requestId": "q", "packet": []any{"hello"}}},
		{"server side emit response", Message{Type: ServerSideEmitResponse, Data: &ServerSideEmitResponseData{RequestID: "q", Packet: "ok"}},
			map[string]any{"requestId": "q", "packet": "ok"}},
		{"client count", Message{Type: BroadcastClientCount, Data: &BroadcastClientCountData{RequestID: "q", ClientCount: 3}},
			map[string]any{"requestId": "q", "clientCount": int64(3)}},
		{"broadcast ack response", Message{Type: BroadcastAck, Data: &BroadcastAckData{RequestID: "q", Packet: []byte{9}}},
			map[string]any{"requestId": "q", "packet": []byte{9}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.msg.UID, tt.msg.NSP = "node1", "/chat"
			b, err := Encode(&tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"uid": "node1", "nsp": "/chat", "type": int64(tt.msg.Type)}
			if tt.data != nil {
				want["data"] = tt.data
			}
			if got := rawMap(t, b); !reflect.DeepEqual(got, want) {
				t.Errorf("raw:\n got %#v\nwant %#v", got, want)
			}
			m, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, &tt.msg) {
				t.Errorf("round trip:\n got %#v\nwant %#v", m.Data, tt.msg.Data)
			}
			// the struct form encodes the same
			if tt.msg.Data != nil {
				v := tt.msg
				v.Data = reflect.ValueOf(tt.msg.Data).Elem().Interface()
				b2, err := Encode(&v)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(rawMap(t, b2), want) {
					t.Error("struct form encodes differently")
				}
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, m := range []*Message{nil, {Type: 99}, {Type: Broadcast, Data: &FetchSocketsData{}}, {Type: Heartbeat, Data: 1}} {
		if _, err := Encode(m); err == nil {
			t.Errorf("Encode(%+v) succeeded", m)
		}
	}
}

func enc(t testing.TB, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeInvalid(t *testing.T) {
	env := func(typ any, data any) map[string]any {
		m := map[string]any{"uid": "u", "nsp": "/", "type": typ}
		if data != nil {
			m["data"] = data
		}
		return m
	}
	opts := map[string]any{"rooms": []any{}, "except": []any{}, "flags": map[string]any{}}
	good := enc(t, env(3, map[string]any{"opts": opts, "packet": map[string]any{"type": 2, "data": []any{"e"}}}))
	cases := map[string][]byte{
		"empty":             {},
		"nil":               {0xc0},
		"array envelope":    enc(t, []any{1, 2}),
		"unknown type":      enc(t, env(99, nil)),
		"type zero":         enc(t, env(0, nil)),
		"type string":       enc(t, env("3", nil)),
		"type float":        enc(t, env(3.5, nil)),
		"uid int":           enc(t, map[string]any{"uid": 1, "nsp": "/", "type": 2}),
		"no nsp":            enc(t, map[string]any{"uid": "u", "type": 2}),
		"no data":           enc(t, env(3, nil)),
		"data array":        enc(t, env(3, []any{})),
		"no opts":           enc(t, env(3, map[string]any{"packet": map[string]any{"type": 2}})),
		"rooms not strings": enc(t, env(4, map[string]any{"opts": map[string]any{"rooms": []any{1}}, "rooms": []any{}})),
		"no rooms":          enc(t, env(4, map[string]any{"opts": opts})),
		"flags volatile":    enc(t, env(3, map[string]any{"opts": map[string]any{"flags": map[string]any{"volatile": "yes"}}, "packet": map[string]any{"type": 2}})),
		"flags timeout":     enc(t, env(3, map[string]any{"opts": map[string]any{"flags": map[string]any{"timeout": -1}}, "packet": map[string]any{"type": 2}})),
		"packet type":       enc(t, env(3, map[string]any{"opts": opts, "packet": map[string]any{"type": 9}})),
		"packet id":         enc(t, env(3, map[string]any{"opts": opts, "packet": map[string]any{"type": 2, "id": -1}})),
		"fetch no request":  enc(t, env(7, map[string]any{"opts": opts})),
		"sockets map":       enc(t, env(8, map[string]any{"requestId": "r", "sockets": map[string]any{}})),
		"socket no id":      enc(t, env(8, map[string]any{"requestId": "r", "sockets": []any{map[string]any{}}})),
		"header int":        enc(t, env(8, map[string]any{"requestId": "r", "sockets": []any{map[string]any{"id": "s", "handshake": map[string]any{"headers": map[string]any{"a": 1}}}}})),
		"emit packet":       enc(t, env(9, map[string]any{"packet": "x"})),
		"count string":      enc(t, env(11, map[string]any{"requestId": "r", "clientCount": "1"})),
		"count negative":    enc(t, env(11, map[string]any{"requestId": "r", "clientCount": -1})),
		"ack no request":    enc(t, env(12, map[string]any{"packet": 1})),
		"close string":      enc(t, env(6, map[string]any{"opts": opts, "close": "true"})),
		"int map key":       enc(t, map[int]any{1: 2}),
		"truncated":         good[:len(good)-1],
		"trailing":          append(append([]byte{}, good...), 0),
		"never used byte":   {0x81, 0xa1, 'a', 0xc1},
		"unknown ext":       {0xd4, 0x05, 0x00},
		// 2^32-1 elements declared in a few bytes.
		"huge array":  {0xdd, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00},
		"huge map":    {0xdf, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00},
		"huge str":    {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'},
		"huge bin":    {0xc6, 0xff, 0xff, 0xff, 0xff, 'a'},
		"huge ext":    {0xc9, 0xff, 0xff, 0xff, 0xff, 0xff, 0},
		"huge nested": append(enc(t, env(9, nil))[:0:0], append([]byte{0x84, 0xa3, 'u', 'i', 'd', 0xa0, 0xa3, 'n', 's', 'p', 0xa0, 0xa4, 't', 'y', 'p', 'e', 0x09, 0xa4, 'd', 'a', 't', 'a', 0x81, 0xa6, 'p', 'a', 'c', 'k', 'e', 't'}, 0xdd, 0x7f, 0xff, 0xff, 0xff, 0x90)...),
		"deep":        append(bytes.Repeat([]byte{0x91}, 200), 0xc0),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := Decode(b)
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Decode = %+v, %v; want ErrInvalidMessage", m, err)
			}
		})
	}
	if _, err := Decode(good); err != nil {
		t.Fatalf("good message: %v", err)
	}
}

func TestDecodeHugeLengthAllocation(t *testing.T) {
	b := []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00}
	allocs := testing.AllocsPerRun(10, func() { _, _ = Decode(b) })
	var ms1, ms2 runtimeMem
	ms1.read()
	for range 100 {
		_, _ = Decode(b)
	}
	ms2.read()
	if per := (ms2.total - ms1.total) / 100; per > 4096 {
		t.Errorf("Decode of a 10-byte input allocates %d bytes (%v allocs)", per, allocs)
	}
}

func TestDecodeLenient(t *testing.T) {
	// What Node may send: optional fields absent or nil, float numbers,
	// unknown flags and fields, data on heartbeats.
	b := enc(t, map[string]any{"uid": "u", "nsp": "/", "type": 3.0, "extra": 1, "data": map[string]any{
		"opts":   map[string]any{"rooms": []any{"a"}, "flags": map[string]any{"broadcast": true, "binary": false, "timeout": 2500.0}},
		"packet": map[string]any{"type": 2, "data": []any{"e", time.UnixMilli(5).UTC()}, "nsp": nil, "id": nil},
	}})
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Data.(*BroadcastData)
	if d.RequestID != "" || d.Opts.Flags.Timeout != 2500 || d.Packet.HasID || d.Opts.Except != nil || !reflect.DeepEqual(d.Opts.Rooms, []string{"a"}) {
		t.Errorf("got %+v", d)
	}
	if _, ok := d.Packet.Data.([]any)[1].(time.Time); !ok {
		t.Errorf("timestamp decoded as %T", d.Packet.Data.([]any)[1])
	}
	if _, err := Decode(enc(t, map[string]any{"uid": "u", "nsp": "/", "type": 2, "data": "junk"})); err != nil {
		t.Errorf("heartbeat with data: %v", err)
	}
	d6, err := Decode(enc(t, map[string]any{"uid": "u", "nsp": "/", "type": 6, "data": map[string]any{"opts": map[string]any{}}}))
	if err != nil || d6.Data.(*DisconnectSocketsData).Close {
		t.Errorf("disconnect without close: %+v, %v", d6, err)
	}
}

func TestDecodeRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(64))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if m, err := Decode(b); err == nil {
			if _, err := Encode(m); err != nil {
				t.Fatalf("decoded %x but cannot encode it: %v", b, err)
			}
		} else if !errors.Is(err, ErrInvalidMessage) {
			t.Fatalf("Decode(%x): %v", b, err)
		}
	}
}

func TestBinaryEndToEnd(t *testing.T) {
	data, atts, err := parser.MarshalEvent("file", []any{map[string]any{"name": "a", "chunks": []any{[]byte("xy"), []byte{0, 255}}}, 42, []byte{}})
	if err != nil {
		t.Fatal(err)
	}
	p := &parser.Packet{Type: parser.BinaryEvent, Namespace: "/chat", Data: data, Attachments: atts}
	w, err := PacketToWire(p)
	if err != nil {
		t.Fatal(err)
	}
	if w.Type != PacketEvent {
		t.Errorf("wire type %d", w.Type)
	}
	b, err := Encode(&Message{UID: "u", NSP: "/chat", Type: Broadcast, Data: &BroadcastData{
		Opts: OptsFromBroadcast(adapter.BroadcastOptions{}), Packet: w}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("_placeholder")) {
		t.Error("placeholders on the wire")
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	q, err := PacketFromWire(m.Data.(*BroadcastData).Packet, m.NSP)
	if err != nil {
		t.Fatal(err)
	}
	if q.Type != parser.BinaryEvent || q.Namespace != "/chat" || string(q.Data) != string(p.Data) || !reflect.DeepEqual(q.Attachments, p.Attachments) {
		t.Errorf("got %v %q %s %q\nwant %s %q", q.Type, q.Namespace, q.Data, q.Attachments, p.Data, p.Attachments)
	}

	// without binary: EVENT, and ACK with id
	ack := &parser.Packet{Type: parser.Ack, Namespace: "/", ID: 12, HasID: true, Data: []byte(`[1,"a",null,{"b":true}]`)}
	w, err = PacketToWire(ack)
	if err != nil {
		t.Fatal(err)
	}
	q, err = PacketFromWire(w, "")
	if err != nil || !reflect.DeepEqual(q, ack) {
		t.Errorf("ack round trip: %+v, %v", q, err)
	}
	if _, err := PacketFromWire(WirePacket{Type: 9}, "/"); err == nil {
		t.Error("packet type 9 accepted")
	}
}

func TestOptsConversion(t *testing.T) {
	for _, o := range []adapter.BroadcastOptions{
		{Rooms: []string{"a"}, Except: []string{"b"}, Flags: adapter.Flags{Local: true, Volatile: true, NoCompress: true, Timeout: 2 * time.Second}},
		{Rooms: []string{}, Except: []string{}},
	} {
		w := OptsFromBroadcast(o)
		if got := w.BroadcastOptions(); !reflect.DeepEqual(got, o) {
			t.Errorf("got %+v want %+v", got, o)
		}
	}
	if w := OptsFromBroadcast(adapter.BroadcastOptions{}); w.Rooms == nil || w.Except == nil || w.Flags.Compress != nil {
		t.Errorf("zero options: %+v", w)
	}
}

func TestSocketConversion(t *testing.T) {
	info := adapter.SocketInfo{ID: "s", Rooms: []string{"s", "r"}, Data: []byte(`{"n":1,"s":"x"}`),
		Handshake: adapter.Handshake{Headers: map[string][]string{"h": {"v"}}, Time: "t", Address: "a", XDomain: true,
			Secure: true, Issued: 99, URL: "/u", Query: map[string][]string{"q": {"1", "2"}}, Auth: []byte(`{"token":"t"}`)}}
	s, err := SocketFromInfo(info)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(&Message{Type: FetchSocketsResponse, Data: &FetchSocketsResponseData{RequestID: "r", Sockets: []Socket{s}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Data.(*FetchSocketsResponseData).Sockets[0].Info()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, info) {
		t.Errorf("got %+v\nwant %+v", got, info)
	}
}

func BenchmarkEncodeBroadcast(b *testing.B) {
	m := benchMessage(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBroadcast(b *testing.B) {
	buf, err := Encode(benchMessage(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func benchMessage(b *testing.B) *Message {
	w, err := PacketToWire(&parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(`["chat message",{"user":"ann","text":"hello"}]`)})
	if err != nil {
		b.Fatal(err)
	}
	return &Message{UID: "0123456789abcdef", NSP: "/", Type: Broadcast, Data: &BroadcastData{
		Opts: OptsFromBroadcast(adapter.BroadcastOptions{Rooms: []string{"room1"}}), Packet: w}}
}
