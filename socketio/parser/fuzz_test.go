package parser_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/socketio/parser"
)

// Seeds beyond the table tests, for RELIABILITY.md rows 17–20 and 28.
// The committed corpus in testdata/fuzz holds small ones; big ones are
// only added here.
var fuzzTextSeeds = []string{
	// Row 17: attachment counts.
	`51-`, `510-`, `511-`, `5-`, `5--`, `5-1-`, `5abc-`, `59999999999999999999-["a"]`, `5` + strings.Repeat("9", 400) + `-`,
	// Row 18: placeholders.
	`51-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`,
	`52-["a",[{"_placeholder":true,"num":1,"num":0}],{"_placeholder":true}]`,
	`51-[{"_placeholder":true,"num":0}]`,
	`61-{"_placeholder":true,"num":0}`,
	`0{"_placeholder":true,"num":0}`,
	// Row 19: event names.
	`2["newListener"]`, `2["removeListener"]`, `2["disconnecting"]`, `2[-1]`, `2[1e999]`, `2["\u0000"]`,
	// Row 20: payload shapes and ack ids.
	`2abc`, `21abc`, `2/chat,abc`, `2/chat`, `3`, `4`, `0/`, `0/,`, `0,`, `2/chat,1`, `290071992547409919["a"]`,
	// Odd bytes.
	"2[\"\xed\xa0\x80\"]", "2[\"a\"]\x00", "\x002", "2\xef\xbb\xbf[\"a\"]",
}

func FuzzDecoder(f *testing.F) {
	add := func(text string, bins []string, again bool) {
		var b1, b2 []byte
		if len(bins) > 0 {
			b1 = []byte(bins[0])
		}
		if len(bins) > 1 {
			b2 = []byte(bins[1])
		}
		n := uint8(min(len(bins), 3))
		if again {
			n |= 4
		}
		f.Add([]byte(text), b1, b2, n)
	}
	for _, tt := range decodeTests {
		add(tt.in, tt.bins, false)
		add(tt.in, tt.bins, true)
	}
	for _, s := range fuzzTextSeeds {
		add(s, []string{"x"}, false)
	}
	for _, b := range bombs(4<<10, 1000) {
		add(b.in, []string{"bin"}, false)
	}

	f.Fuzz(func(t *testing.T, text, bin1, bin2 []byte, nbins uint8) {
		frames := [][]byte{bin1, bin2, bin1}[:nbins%4]
		again := nbins&4 != 0
		checkDecoder(t, text, frames, again)

		// Split in two, as a partial read would (nats-server
		// FuzzParser): both halves as text frames, in one Decoder.
		half := len(text) / 2
		var d parser.Decoder
		for _, part := range [][]byte{text[:half], text[half:]} {
			p, err := d.Add(part, false)
			checkError(t, err)
			if p != nil {
				checkPacket(t, p, len(part))
			}
		}
	})
}

// checkDecoder feeds text, then the binary frames, then (with again) the
// text once more, to a new Decoder, and checks every answer.
func checkDecoder(t *testing.T, text []byte, bins [][]byte, again bool) {
	t.Helper()
	var d parser.Decoder
	p, err := d.Add(text, false)
	checkError(t, err)
	if err != nil {
		require.Nil(t, p)
		require.False(t, d.Pending(), "reset after an error")
		return
	}
	for _, b := range bins {
		if p != nil {
			// The packet is complete: no binary frame is expected.
			_, err := d.Add(b, true)
			require.ErrorIs(t, err, parser.ErrUnexpectedBinary)
			return
		}
		require.True(t, d.Pending())
		p, err = d.Add(b, true)
		require.NoError(t, err, "a binary frame is always accepted while pending")
	}
	if p == nil {
		require.True(t, d.Pending())
		if again {
			_, err := d.Add(text, false)
			require.ErrorIs(t, err, parser.ErrUnexpectedText)
			require.False(t, d.Pending())
		}
		return
	}
	require.False(t, d.Pending())
	checkPacket(t, p, len(text))
	if again {
		// The Decoder is ready for the next packet.
		q, err := d.Add(text, false)
		require.NoError(t, err)
		if q != nil {
			require.Equal(t, view(p), view(q))
		}
	}
}

// checkError checks that err is nil or one of the sentinels.
func checkError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, sentinel := range []error{
		parser.ErrInvalidPacket, parser.ErrTooManyAttachments, parser.ErrIllegalAttachments,
		parser.ErrUnexpectedBinary, parser.ErrUnexpectedText,
	} {
		if errors.Is(err, sentinel) {
			return
		}
	}
	t.Fatalf("error wraps no sentinel: %v", err)
}

// checkPacket checks the properties of a decoded packet: its fields are
// well-formed and bounded by the input, it survives Encode and a new
// Decoder unchanged, and the payload helpers accept its payload.
func checkPacket(t *testing.T, p *parser.Packet, textLen int) {
	t.Helper()
	require.True(t, p.Type.Valid())
	binary := p.Type == parser.BinaryEvent || p.Type == parser.BinaryAck
	require.Equal(t, binary, len(p.Attachments) > 0, "%v with %d attachments", p.Type, len(p.Attachments))
	require.LessOrEqual(t, len(p.Attachments), parser.DefaultMaxAttachments)
	require.True(t, strings.HasPrefix(p.Namespace, "/"), "namespace %q", p.Namespace)
	require.NotContains(t, p.Namespace, ",")
	require.False(t, !p.HasID && p.ID != 0)
	require.LessOrEqual(t, p.ID, uint64(1<<53-1))
	require.LessOrEqual(t, len(p.Data)+len(p.Namespace), textLen)
	if p.Data != nil {
		require.True(t, p.Data.IsValid(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)))
	}

	// decode∘encode is the identity.
	text, bins := parser.Encode(p)
	var d parser.Decoder
	q, err := d.Add(text, false)
	require.NoError(t, err, "re-encoded %q", text)
	for _, b := range bins {
		require.Nil(t, q)
		q, err = d.Add(b, true)
		require.NoError(t, err)
	}
	require.Equal(t, view(p), view(q), "re-encoded %q", text)

	// The payload helpers agree with the Decoder.
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		_, err := parser.EventName(p.Data)
		require.NoError(t, err)
		elems, err := parser.Elements(p.Data)
		require.NoError(t, err)
		require.NotEmpty(t, elems)
	case parser.Ack, parser.BinaryAck:
		_, err := parser.Elements(p.Data)
		require.NoError(t, err)
	}
	if p.Data != nil {
		var v any
		err := parser.Unmarshal(p.Data, p.Attachments, &v)
		require.NotErrorIs(t, err, parser.ErrIllegalAttachments, "the Decoder accepted the placeholders")
	}
}

// fuzzDst has a field of every kind Unmarshal treats specially.
type fuzzDst struct {
	A []byte            `json:"a"`
	B any               `json:"b"`
	C []any             `json:"c"`
	D map[string][]byte `json:"d"`
	E *[]byte           `json:"e"`
	F struct {
		G [][]byte `json:"g"`
	} `json:"f"`
	N int    `json:"n"`
	S string `json:"s"`
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		ph0, `{"_placeholder":true,"num":1}`, `{"_placeholder":true,"num":2}`, `{"_placeholder":true,"num":-1}`,
		`{"_placeholder":true,"num":1.5}`, `{"_placeholder":true}`, `{"_placeholder":true,"num":"0"}`,
		`{"a":` + ph0 + `,"b":{"_placeholder":true,"num":1},"c":[` + ph0 + `],"d":{"k":` + ph0 + `},"e":` + ph0 + `,"f":{"g":[` + ph0 + `]}}`,
		`{"a":"aGk=","b":[1,"x",null,true,{"y":[]}],"n":1,"s":"\u00e9"}`,
		`[1,"a",` + ph0 + `,{"x":{"_placeholder":true,"num":1}}]`,
		`{"_placeholder":true,"num":0,"num":1,"x":{"_placeholder":false}}`,
		`{"\u005fplaceholder":true,"n\u0075m":1}`,
		`"aGk="`, `null`, `1e400`, `{"a":[1,2]}`, `{"a":{}}`, ``, `{`, `[1,]`,
	} {
		f.Add([]byte(s))
	}
	for _, tt := range decodeTests {
		if i := strings.IndexAny(tt.in, "[{\""); i >= 0 {
			f.Add([]byte(tt.in[i:]))
		}
	}
	for _, b := range bombs(4<<10, 1000) {
		if i := strings.IndexAny(b.in, "[{\""); i >= 0 {
			f.Add([]byte(b.in[i:]))
		}
	}

	f.Fuzz(func(t *testing.T, raw []byte) {
		atts := [][]byte{[]byte("zero"), []byte("one")}
		var v any
		errAny := parser.Unmarshal(raw, atts, &v)
		var dst fuzzDst
		_ = parser.Unmarshal(raw, atts, &dst)
		var b []byte
		_ = parser.Unmarshal(raw, atts, &b)
		var s []any
		_ = parser.Unmarshal(raw, atts, &s)
		var m map[string]any
		_ = parser.Unmarshal(raw, atts, &m)

		// Placeholders the Decoder accepts are placeholders Unmarshal
		// accepts: raw as the element of a binary ack of 2 attachments.
		var d parser.Decoder
		p, err := d.Add([]byte("62-["+string(raw)+"]"), false)
		if err == nil {
			require.Nil(t, p)
			_, _ = d.Add(atts[0], true)
			p, err = d.Add(atts[1], true)
			require.NoError(t, err)
			var elems []any
			err = parser.Unmarshal(p.Data, p.Attachments, &elems)
			require.NotErrorIs(t, err, parser.ErrIllegalAttachments)
		}

		// What Unmarshal produces in an any, Marshal writes back to the
		// same value (placeholders included).
		if errAny == nil {
			data, bins, err := parser.Marshal(v)
			require.NoError(t, err)
			var v2 any
			require.NoError(t, parser.Unmarshal(data, bins, &v2), "%s", data)
			require.Equal(t, v, v2)
		}
	})
}
