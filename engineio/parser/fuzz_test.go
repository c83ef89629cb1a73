package parser_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/engineio/parser"
)

// Extra seeds for RELIABILITY.md row 6 (malformed Engine.IO packets:
// unknown type, empty, bad base64 after "b", bad record separators, text
// where binary is expected), beyond the inputs of the table tests.
var (
	fuzzTextSeeds = []string{
		"", "7x", "\x00", "\xff", "\x1e", "b", "b=", "b!!!", "bAQI", "bA", "bAQIDBA", "bAQIDBA=", "bAQIDBA===",
		"bAQJ=",       // non-zero trailing bits
		"bAQID\nBA==", // newline inside base64
		"b\r\n",       // only newlines
		"\x1e4a", "4a\x1e", "4a\x1e\x1e4b", "\x1e\x1e\x1e", "4a\x1e\x1e", "b\x1eb\x1e4",
		"4hello\x1ebAQIDBA==\x1e2probe\x1e3probe\x1e5\x1e6\x1e1",
		"\x01\x02\x03\x04", // binary data where text is expected
	}
	fuzzBigSeeds = []string{
		"4" + strings.Repeat("a", 1<<20),          // 1 MB message
		strings.Repeat("\x1e", 10_000),            // 10 000 separators
		strings.Repeat("4\x1e", 5_000) + "4",      // 5 001 empty messages
		"b" + strings.Repeat("AAAA", (1<<20)/4-1), // ~1 MB of base64
	}
)

func FuzzDecodePacket(f *testing.F) {
	for _, tt := range decodePacketTests {
		f.Add([]byte(tt.in), tt.binary)
	}
	for _, tt := range decodePayloadTests {
		f.Add([]byte(tt.in), false)
	}
	for _, s := range fuzzTextSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true) // text where binary is expected
	}
	for _, s := range fuzzBigSeeds {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("4"+strings.Repeat("a", 1<<20)), true)

	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		checkPacket(t, data, binary)
		// Split in two, as a partial read would (nats-server FuzzParser).
		half := len(data) / 2
		_, _ = parser.DecodePacket(data[:half], binary)
		_, _ = parser.DecodePacket(data[half:], binary)
	})
}

func FuzzDecodePayload(f *testing.F) {
	for _, tt := range decodePayloadTests {
		f.Add([]byte(tt.in))
	}
	for _, tt := range decodePacketTests {
		if !tt.binary {
			f.Add([]byte(tt.in))
		}
	}
	for _, s := range fuzzTextSeeds {
		f.Add([]byte(s))
	}
	for _, s := range fuzzBigSeeds {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		checkPayload(t, data)
		// Split in two, as a partial read would (nats-server FuzzParser).
		half := len(data) / 2
		_, _ = parser.DecodePayload(data[:half])
		_, _ = parser.DecodePayload(data[half:])
	})
}

// checkPacket asserts the properties of DecodePacket on any input.
func checkPacket(t *testing.T, data []byte, binary bool) {
	t.Helper()
	p, err := parser.DecodePacket(data, binary)
	if err != nil {
		require.ErrorIs(t, err, parser.ErrInvalidPacket)
		require.False(t, binary, "a binary frame is always a valid binary message")
		require.Equal(t, parser.Packet{}, p)
		return
	}
	checkDecoded(t, p, len(data))

	// Canonical input re-encodes to itself.
	enc := parser.AppendPacket(nil, p)
	if !p.Binary || binary {
		require.Equal(t, string(data), string(enc), "re-encoding differs from the input")
	}
	// decode∘encode in the WebSocket form.
	q, err := parser.DecodePacket(enc, p.Binary)
	require.NoError(t, err)
	require.Equal(t, view(p), view(q))

	// decode∘encode in the text-frame and payload forms.
	enc = parser.AppendPayloadPacket(nil, p)
	require.Len(t, enc, parser.EncodedLen(p))
	q, err = parser.DecodePacket(enc, false)
	require.NoError(t, err)
	require.Equal(t, view(p), view(q))
	if p.Binary || !bytes.Contains(p.Data, []byte{parser.RecordSeparator}) {
		qs, err := parser.DecodePayload(enc)
		require.NoError(t, err)
		require.Equal(t, view(p), view(qs...))
	}
}

// checkPayload asserts the properties of DecodePayload on any input.
func checkPayload(t *testing.T, data []byte) {
	t.Helper()
	packets, err := parser.DecodePayload(data)
	records := bytes.Split(data, []byte{parser.RecordSeparator})
	require.LessOrEqual(t, len(packets), len(records))
	for _, p := range packets {
		checkDecoded(t, p, len(data))
		if !p.Binary {
			require.NotContains(t, p.Data, byte(parser.RecordSeparator))
		}
	}

	// The packets are the decoded records, up to the first invalid one.
	for i, p := range packets {
		q, err := parser.DecodePacket(records[i], false)
		require.NoError(t, err, "record %d", i)
		require.Equal(t, view(q), view(p), "record %d", i)
	}
	if err != nil {
		require.ErrorIs(t, err, parser.ErrInvalidPayload)
		require.Less(t, len(packets), len(records), "an error needs an invalid record")
		_, err := parser.DecodePacket(records[len(packets)], false)
		require.ErrorIs(t, err, parser.ErrInvalidPacket, "record %d", len(packets))
	} else {
		require.Len(t, packets, len(records))
	}
	if len(packets) == 0 {
		return
	}

	// decode∘encode, for a whole valid payload or the valid prefix.
	enc := parser.AppendPayload(nil, packets)
	require.Len(t, enc, parser.PayloadLen(packets))
	if err == nil && !hasBinary(packets) {
		require.Equal(t, string(data), string(enc), "re-encoding differs from the input")
	}
	qs, err := parser.DecodePayload(enc)
	require.NoError(t, err)
	require.Equal(t, view(packets...), view(qs...))
}

// checkDecoded asserts what holds for every decoded packet: a valid type,
// only messages binary, and no more data than input (bounded memory).
func checkDecoded(t *testing.T, p parser.Packet, inputLen int) {
	t.Helper()
	require.True(t, p.Type.Valid(), "type %v", p.Type)
	require.True(t, !p.Binary || p.Type == parser.Message, "binary %v", p.Type)
	require.LessOrEqual(t, len(p.Data), inputLen)
}

func hasBinary(packets []parser.Packet) bool {
	for _, p := range packets {
		if p.Binary {
			return true
		}
	}
	return false
}
