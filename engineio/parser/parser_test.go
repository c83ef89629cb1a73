package parser_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/engineio/parser"
)

// pkt is a Packet with its Data as a string, so that testify compares nil
// and empty data as equal and prints readable diffs.
type pkt struct {
	Type   parser.Type
	Data   string
	Binary bool
}

func view(ps ...parser.Packet) []pkt {
	out := make([]pkt, len(ps))
	for i, p := range ps {
		out[i] = pkt{Type: p.Type, Data: string(p.Data), Binary: p.Binary}
	}
	return out
}

func text(t parser.Type, data string) parser.Packet {
	return parser.Packet{Type: t, Data: []byte(data)}
}

func bin(data ...byte) parser.Packet {
	return parser.Packet{Type: parser.Message, Data: data, Binary: true}
}

// decodePacketTests is shared with FuzzDecodePacket, which uses every
// input as a seed.
var decodePacketTests = []struct {
	name    string
	in      string
	binary  bool
	want    parser.Packet
	wantErr error
}{
	// Every type, with and without data.
	{name: "open", in: "0", want: text(parser.Open, "")},
	{name: "open handshake", in: `0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
		want: text(parser.Open, `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)},
	{name: "close", in: "1", want: text(parser.Close, "")},
	{name: "close with data", in: "1bye", want: text(parser.Close, "bye")},
	{name: "ping", in: "2", want: text(parser.Ping, "")},
	{name: "ping probe", in: "2probe", want: text(parser.Ping, "probe")},
	{name: "pong", in: "3", want: text(parser.Pong, "")},
	{name: "pong probe", in: "3probe", want: text(parser.Pong, "probe")},
	{name: "message empty", in: "4", want: text(parser.Message, "")},
	{name: "message", in: "4hello", want: text(parser.Message, "hello")},
	{name: "message utf8", in: "4héllo €", want: text(parser.Message, "héllo €")},
	{name: "message starting with b", in: "4bAQIDBA==", want: text(parser.Message, "bAQIDBA==")},
	// A record separator means nothing inside a WebSocket message.
	{name: "message with record separator", in: "4a\x1eb", want: text(parser.Message, "a\x1eb")},
	{name: "upgrade", in: "5", want: text(parser.Upgrade, "")},
	{name: "upgrade with data", in: "5x", want: text(parser.Upgrade, "x")},
	{name: "noop", in: "6", want: text(parser.Noop, "")},
	{name: "noop with data", in: "6x", want: text(parser.Noop, "x")},

	// Binary frames hold raw bytes and are never invalid.
	{name: "binary frame", in: "\x01\x02\x03\x04", binary: true, want: bin(1, 2, 3, 4)},
	{name: "binary frame empty", in: "", binary: true, want: bin()},
	{name: "binary frame all bytes", in: "\x00\x1e\xff", binary: true, want: bin(0, 0x1e, 0xff)},
	// Text where binary is expected: taken as raw bytes, not decoded.
	{name: "binary frame holding text packet", in: "4hello", binary: true, want: bin([]byte("4hello")...)},
	{name: "binary frame holding base64", in: "bAQIDBA==", binary: true, want: bin([]byte("bAQIDBA==")...)},

	// "b" + base64 in a text frame, accepted like the Node.js parser does.
	{name: "base64", in: "bAQIDBA==", want: bin(1, 2, 3, 4)},
	{name: "base64 one pad", in: "bAQI=", want: bin(1, 2)},
	{name: "base64 three bytes", in: "bAQID", want: bin(1, 2, 3)},
	{name: "base64 empty", in: "b", want: bin()},

	// Malformed (RELIABILITY.md row 6; engine.io-protocol test-suite
	// "closes the session upon invalid packet format").
	{name: "empty", in: "", wantErr: parser.ErrInvalidPacket},
	{name: "type 7", in: "7", wantErr: parser.ErrInvalidPacket},
	{name: "type 7 with data", in: "7hello", wantErr: parser.ErrInvalidPacket},
	{name: "type 9", in: "9", wantErr: parser.ErrInvalidPacket},
	{name: "type colon", in: ":", wantErr: parser.ErrInvalidPacket},
	{name: "type x", in: "x", wantErr: parser.ErrInvalidPacket},
	{name: "type slash", in: "/", wantErr: parser.ErrInvalidPacket},
	{name: "type B", in: "BAQIDBA==", wantErr: parser.ErrInvalidPacket},
	{name: "type NUL", in: "\x00", wantErr: parser.ErrInvalidPacket},
	{name: "type space", in: " 4hello", wantErr: parser.ErrInvalidPacket},
	{name: "type record separator", in: "\x1e4hello", wantErr: parser.ErrInvalidPacket},
	{name: "type non-ASCII", in: "\xff4hello", wantErr: parser.ErrInvalidPacket},
	{name: "type UTF-8", in: "é", wantErr: parser.ErrInvalidPacket},
	{name: "binary data in text frame", in: "\x01\x02\x03\x04", wantErr: parser.ErrInvalidPacket},
	{name: "base64 invalid characters", in: "b!!!", wantErr: parser.ErrInvalidPacket},
	{name: "base64 bad padding", in: "bAQI", wantErr: parser.ErrInvalidPacket},
	{name: "base64 missing padding", in: "bAQIDBA", wantErr: parser.ErrInvalidPacket},
	{name: "base64 extra padding", in: "bAQIDBA===", wantErr: parser.ErrInvalidPacket},
	{name: "base64 only padding", in: "b==", wantErr: parser.ErrInvalidPacket},
	{name: "base64 one char", in: "bA", wantErr: parser.ErrInvalidPacket},
	{name: "base64 with space", in: "b AQIDBA==", wantErr: parser.ErrInvalidPacket},
	{name: "base64 url alphabet", in: "b-_8=", wantErr: parser.ErrInvalidPacket},
	{name: "base64 trailing separator", in: "bAQIDBA==\x1e", wantErr: parser.ErrInvalidPacket},
}

func TestDecodePacket(t *testing.T) {
	for _, tt := range decodePacketTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parser.DecodePacket([]byte(tt.in), tt.binary)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Equal(t, parser.Packet{}, got, "a failed decode returns the zero Packet")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, view(tt.want), view(got))
		})
	}
}

// decodePayloadTests is shared with FuzzDecodePayload, which uses every
// input as a seed.
var decodePayloadTests = []struct {
	name    string
	in      string
	want    []parser.Packet // on error: the packets before the invalid one
	wantErr error
}{
	{name: "one message", in: "4hello", want: []parser.Packet{text(parser.Message, "hello")}},
	{name: "three messages", in: "4test1\x1e4test2\x1e4test3",
		want: []parser.Packet{text(parser.Message, "test1"), text(parser.Message, "test2"), text(parser.Message, "test3")}},
	{name: "text and binary", in: "4hello\x1ebAQIDBA==",
		want: []parser.Packet{text(parser.Message, "hello"), bin(1, 2, 3, 4)}},
	{name: "ping pong", in: "2\x1e3", want: []parser.Packet{text(parser.Ping, ""), text(parser.Pong, "")}},
	{name: "noop", in: "6", want: []parser.Packet{text(parser.Noop, "")}},
	{name: "close", in: "1", want: []parser.Packet{text(parser.Close, "")}},
	{name: "empty binary", in: "b", want: []parser.Packet{bin()}},
	{name: "two empty messages", in: "4\x1e4", want: []parser.Packet{text(parser.Message, ""), text(parser.Message, "")}},
	{name: "every type", in: "0{}\x1e1\x1e2probe\x1e3probe\x1e4x\x1e5\x1e6\x1eb/w==",
		want: []parser.Packet{
			text(parser.Open, "{}"), text(parser.Close, ""), text(parser.Ping, "probe"), text(parser.Pong, "probe"),
			text(parser.Message, "x"), text(parser.Upgrade, ""), text(parser.Noop, ""), bin(0xff),
		}},

	// Malformed (RELIABILITY.md row 6): the packets before the invalid one
	// are returned, as the Node.js parser processes them before the error.
	{name: "empty", in: "", want: nil, wantErr: parser.ErrInvalidPayload},
	{name: "lone separator", in: "\x1e", want: nil, wantErr: parser.ErrInvalidPayload},
	{name: "only separators", in: "\x1e\x1e\x1e", want: nil, wantErr: parser.ErrInvalidPayload},
	{name: "leading separator", in: "\x1e4a", want: nil, wantErr: parser.ErrInvalidPayload},
	{name: "trailing separator", in: "4a\x1e", want: []parser.Packet{text(parser.Message, "a")}, wantErr: parser.ErrInvalidPayload},
	{name: "double separator", in: "4a\x1e\x1e4b", want: []parser.Packet{text(parser.Message, "a")}, wantErr: parser.ErrInvalidPayload},
	{name: "unknown type first", in: "abc", want: nil, wantErr: parser.ErrInvalidPayload},
	{name: "unknown type second", in: "4a\x1e9", want: []parser.Packet{text(parser.Message, "a")}, wantErr: parser.ErrInvalidPayload},
	{name: "unknown type third", in: "4a\x1e4b\x1ex", want: []parser.Packet{text(parser.Message, "a"), text(parser.Message, "b")}, wantErr: parser.ErrInvalidPayload},
	{name: "bad base64 second", in: "4a\x1ebZZZ", want: []parser.Packet{text(parser.Message, "a")}, wantErr: parser.ErrInvalidPayload},
	{name: "bad padding after binary", in: "bAQIDBA==\x1ebAQI", want: []parser.Packet{bin(1, 2, 3, 4)}, wantErr: parser.ErrInvalidPayload},
	{name: "raw binary in payload", in: "4a\x1e\x01\x02", want: []parser.Packet{text(parser.Message, "a")}, wantErr: parser.ErrInvalidPayload},
	{name: "valid after invalid is dropped", in: "4a\x1e7\x1e4b", want: []parser.Packet{text(parser.Message, "a")}, wantErr: parser.ErrInvalidPayload},
}

func TestDecodePayload(t *testing.T) {
	for _, tt := range decodePayloadTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parser.DecodePayload([]byte(tt.in))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, view(tt.want...), view(got...))
		})
	}
}

// TestDecodePayload_ManySeparators: a payload of nothing but separators
// fails on its first (empty) packet.
func TestDecodePayload_ManySeparators(t *testing.T) {
	got, err := parser.DecodePayload(bytes.Repeat([]byte{parser.RecordSeparator}, 10_000))
	require.ErrorIs(t, err, parser.ErrInvalidPayload)
	assert.Empty(t, got)
}

var encodeTests = []struct {
	name    string
	p       parser.Packet
	ws      string // AppendPacket
	payload string // AppendPayloadPacket
}{
	{name: "open", p: text(parser.Open, `{"sid":"x"}`), ws: `0{"sid":"x"}`, payload: `0{"sid":"x"}`},
	{name: "close", p: text(parser.Close, ""), ws: "1", payload: "1"},
	{name: "ping probe", p: text(parser.Ping, "probe"), ws: "2probe", payload: "2probe"},
	{name: "pong probe", p: text(parser.Pong, "probe"), ws: "3probe", payload: "3probe"},
	{name: "message", p: text(parser.Message, "hello"), ws: "4hello", payload: "4hello"},
	{name: "message empty", p: parser.Packet{Type: parser.Message}, ws: "4", payload: "4"},
	{name: "message utf8", p: text(parser.Message, "€"), ws: "4€", payload: "4€"},
	{name: "upgrade", p: text(parser.Upgrade, ""), ws: "5", payload: "5"},
	{name: "noop", p: text(parser.Noop, ""), ws: "6", payload: "6"},
	{name: "binary", p: bin(1, 2, 3, 4), ws: "\x01\x02\x03\x04", payload: "bAQIDBA=="},
	{name: "binary empty", p: bin(), ws: "", payload: "b"},
	{name: "binary one byte", p: bin(0xff), ws: "\xff", payload: "b/w=="},
	{name: "binary two bytes", p: bin(0xfb, 0xff), ws: "\xfb\xff", payload: "b+/8="},
	{name: "binary three bytes", p: bin(0, 0x1e, 0xff), ws: "\x00\x1e\xff", payload: "bAB7/"},
}

func TestAppendPacket(t *testing.T) {
	for _, tt := range encodeTests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.ws, string(parser.AppendPacket(nil, tt.p)))
			assert.Equal(t, "xyz"+tt.ws, string(parser.AppendPacket([]byte("xyz"), tt.p)), "keeps dst")
		})
	}
}

func TestAppendPayloadPacket(t *testing.T) {
	for _, tt := range encodeTests {
		t.Run(tt.name, func(t *testing.T) {
			got := parser.AppendPayloadPacket(nil, tt.p)
			assert.Equal(t, tt.payload, string(got))
			assert.Equal(t, len(got), parser.EncodedLen(tt.p), "EncodedLen")
			assert.Equal(t, "xyz"+tt.payload, string(parser.AppendPayloadPacket([]byte("xyz"), tt.p)), "keeps dst")
		})
	}
}

func TestAppendPayload(t *testing.T) {
	var all []parser.Packet
	var parts []string
	for _, tt := range encodeTests {
		all = append(all, tt.p)
		parts = append(parts, tt.payload)
	}
	tests := []struct {
		name    string
		packets []parser.Packet
		want    string
	}{
		{name: "none", packets: nil, want: ""},
		{name: "one", packets: []parser.Packet{text(parser.Message, "hello")}, want: "4hello"},
		{name: "text and binary", packets: []parser.Packet{text(parser.Message, "hello"), bin(1, 2, 3, 4)}, want: "4hello\x1ebAQIDBA=="},
		{name: "ping pong", packets: []parser.Packet{text(parser.Ping, ""), text(parser.Pong, "")}, want: "2\x1e3"},
		{name: "empty binary last", packets: []parser.Packet{text(parser.Noop, ""), bin()}, want: "6\x1eb"},
		{name: "all", packets: all, want: strings.Join(parts, "\x1e")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parser.AppendPayload(nil, tt.packets)
			assert.Equal(t, tt.want, string(got))
			assert.Equal(t, len(got), parser.PayloadLen(tt.packets), "PayloadLen")
			assert.Equal(t, "xyz"+tt.want, string(parser.AppendPayload([]byte("xyz"), tt.packets)), "keeps dst")
		})
	}
}

// TestAppend_NoAllocs: with a large enough dst, the encoders do not
// allocate, so a reused buffer makes encoding allocation-free.
func TestAppend_NoAllocs(t *testing.T) {
	packets := []parser.Packet{text(parser.Message, "hello"), bin(1, 2, 3, 4, 5, 6, 7)}
	dst := make([]byte, 0, parser.PayloadLen(packets))
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		dst = parser.AppendPayload(dst[:0], packets)
	}), "AppendPayload")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		dst = parser.AppendPacket(dst[:0], packets[0])
		dst = parser.AppendPacket(dst[:0], packets[1])
	}), "AppendPacket")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		dst = parser.AppendPayloadPacket(dst[:0], packets[1])
	}), "AppendPayloadPacket")
}

// TestDecodePacket_NoAllocs: text packets and binary frames are decoded
// without allocating.
func TestDecodePacket_NoAllocs(t *testing.T) {
	msg := []byte("4hello")
	frame := []byte{1, 2, 3, 4}
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		if _, err := parser.DecodePacket(msg, false); err != nil {
			t.Fatal(err)
		}
		if _, err := parser.DecodePacket(frame, true); err != nil {
			t.Fatal(err)
		}
	}))
}

// randomPacket returns a valid packet: any type, text data without a
// record separator, or a binary message with arbitrary data.
func randomPacket(rng *rand.Rand) parser.Packet {
	size := rng.IntN(48)
	if rng.IntN(50) == 0 {
		size = rng.IntN(4096)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	t := parser.Type(rng.IntN(7))
	if t == parser.Message && rng.IntN(2) == 0 {
		return parser.Packet{Type: t, Data: data, Binary: true}
	}
	for i, c := range data {
		if c == parser.RecordSeparator {
			data[i] = 'x'
		}
	}
	return parser.Packet{Type: t, Data: data}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 0x1e))
	for i := range 5000 {
		p := randomPacket(rng)

		// WebSocket form.
		got, err := parser.DecodePacket(parser.AppendPacket(nil, p), p.Binary)
		require.NoError(t, err, "iteration %d: %+v", i, p)
		require.Equal(t, view(p), view(got), "iteration %d: WebSocket", i)

		// One packet in a text frame, "b"+base64 for binary.
		got, err = parser.DecodePacket(parser.AppendPayloadPacket(nil, p), false)
		require.NoError(t, err, "iteration %d: %+v", i, p)
		require.Equal(t, view(p), view(got), "iteration %d: text frame", i)

		// Payload form, with up to 7 more packets.
		packets := []parser.Packet{p}
		for range rng.IntN(8) {
			packets = append(packets, randomPacket(rng))
		}
		enc := parser.AppendPayload(nil, packets)
		require.Len(t, enc, parser.PayloadLen(packets))
		gotAll, err := parser.DecodePayload(enc)
		require.NoError(t, err, "iteration %d: %q", i, enc)
		require.Equal(t, view(packets...), view(gotAll...), "iteration %d: payload", i)
	}
}

// TestAliasing documents that decoding is zero-copy: text data and binary
// frames alias the input, base64-decoded data does not.
func TestAliasing(t *testing.T) {
	t.Run("text packet", func(t *testing.T) {
		data := []byte("4hello")
		p, err := parser.DecodePacket(data, false)
		require.NoError(t, err)
		assert.Same(t, &data[1], &p.Data[0])
		data[1] = 'J'
		assert.Equal(t, "Jello", string(p.Data))
	})
	t.Run("binary frame", func(t *testing.T) {
		data := []byte{1, 2, 3}
		p, err := parser.DecodePacket(data, true)
		require.NoError(t, err)
		assert.Same(t, &data[0], &p.Data[0])
	})
	t.Run("payload text", func(t *testing.T) {
		data := []byte("4ab\x1e4cd")
		ps, err := parser.DecodePayload(data)
		require.NoError(t, err)
		require.Len(t, ps, 2)
		assert.Same(t, &data[1], &ps[0].Data[0])
		assert.Same(t, &data[5], &ps[1].Data[0])
	})
	t.Run("base64 is copied", func(t *testing.T) {
		data := []byte("bAQIDBA==")
		p, err := parser.DecodePacket(data, false)
		require.NoError(t, err)
		copy(data, "bBQIDBA==") // different bytes, same length
		assert.Equal(t, []byte{1, 2, 3, 4}, p.Data)

		data = []byte("4x\x1ebAQIDBA==")
		ps, err := parser.DecodePayload(data)
		require.NoError(t, err)
		require.Len(t, ps, 2)
		clear(data)
		assert.Equal(t, []byte{1, 2, 3, 4}, ps[1].Data)
	})
}

func TestType(t *testing.T) {
	names := []string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}
	types := []parser.Type{parser.Open, parser.Close, parser.Ping, parser.Pong, parser.Message, parser.Upgrade, parser.Noop}
	for i, typ := range types {
		assert.Equal(t, parser.Type(i), typ, "wire value of %s", names[i])
		assert.Equal(t, names[i], typ.String())
		assert.True(t, typ.Valid(), "%s", names[i])
	}
	for _, typ := range []parser.Type{7, 9, '0', '4', 0xff} {
		assert.False(t, typ.Valid(), "Type(%d)", byte(typ))
		assert.Equal(t, fmt.Sprintf("Type(%d)", byte(typ)), typ.String())
	}
	assert.Equal(t, "message", fmt.Sprint(parser.Message), "fmt uses String")
	assert.EqualValues(t, 0x1e, parser.RecordSeparator)
}
