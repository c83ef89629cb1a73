package parser_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/socketio/parser"
)

var encodeTests = []struct {
	name string
	p    *parser.Packet
	want string
	bins []string // the attachments Encode returns
}{
	{name: "connect", p: pk(parser.Connect, ""), want: `0`},
	{name: "connect empty namespace", p: withNsp(pk(parser.Connect, ""), ""), want: `0`},
	{name: "connect namespace", p: withNsp(pk(parser.Connect, ""), "/custom"), want: `0/custom,`},
	{name: "connect auth", p: withNsp(pk(parser.Connect, `{"token":"1"}`), "/custom"), want: `0/custom,{"token":"1"}`},
	{name: "connect sid", p: pk(parser.Connect, `{"sid":"oSO0OpakMV_3jnilAAAA"}`), want: `0{"sid":"oSO0OpakMV_3jnilAAAA"}`},
	{name: "disconnect", p: withNsp(pk(parser.Disconnect, ""), "/custom"), want: `1/custom,`},
	{name: "event", p: pk(parser.Event, `["a"]`), want: `2["a"]`},
	{name: "event namespace ack id", p: withID(withNsp(pk(parser.Event, `["a",1]`), "/chat"), 12), want: `2/chat,12["a",1]`},
	{name: "event ack id zero", p: withID(pk(parser.Event, `["a"]`), 0), want: `20["a"]`},
	{name: "ack", p: withID(withNsp(pk(parser.Ack, `[]`), "/chat"), 12), want: `3/chat,12[]`},
	{name: "connect error", p: pk(parser.ConnectError, `{"message":"x"}`), want: `4{"message":"x"}`},
	{name: "binary event", p: pk(parser.BinaryEvent, `["up",`+ph0+`]`, "\x01"), want: `51-["up",` + ph0 + `]`, bins: []string{"\x01"}},
	{name: "binary event namespace ack id", p: withID(withNsp(pk(parser.BinaryEvent, `["up"]`, "a", "b"), "/chat"), 9),
		want: `52-/chat,9["up"]`, bins: []string{"a", "b"}},
	{name: "binary ack", p: withID(pk(parser.BinaryAck, `[`+ph0+`]`, "a"), 3), want: `61-3[` + ph0 + `]`, bins: []string{"a"}},
	// The type follows the attachments, as Node's encoder does.
	{name: "event with attachments", p: pk(parser.Event, `["up",`+ph0+`]`, "a"), want: `51-["up",` + ph0 + `]`, bins: []string{"a"}},
	{name: "ack with attachments", p: pk(parser.Ack, `[`+ph0+`]`, "a"), want: `61-[` + ph0 + `]`, bins: []string{"a"}},
	{name: "binary event without attachments", p: pk(parser.BinaryEvent, `["a"]`), want: `2["a"]`},
	{name: "binary ack without attachments", p: withID(pk(parser.BinaryAck, `[]`), 1), want: `31[]`},
	{name: "connect attachments not written", p: pk(parser.Connect, `{}`, "a"), want: `0{}`},
}

func TestAppendText(t *testing.T) {
	for _, tt := range encodeTests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, string(parser.AppendText(nil, tt.p)))
			assert.Equal(t, "xyz"+tt.want, string(parser.AppendText([]byte("xyz"), tt.p)), "keeps dst")
		})
	}
}

func TestEncode(t *testing.T) {
	for _, tt := range encodeTests {
		t.Run(tt.name, func(t *testing.T) {
			text, attachments := parser.Encode(tt.p)
			assert.Equal(t, tt.want, string(text))
			got := view(&parser.Packet{Attachments: attachments}).Attachments
			assert.Equal(t, tt.bins, got)
		})
	}
}

// TestAppendText_NoAllocs: with room in dst, encoding does not allocate.
func TestAppendText_NoAllocs(t *testing.T) {
	p := withID(withNsp(pk(parser.BinaryEvent, `["up",`+ph0+`]`, "a"), "/chat"), 12345)
	dst := make([]byte, 0, 128)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		dst = parser.AppendText(dst[:0], p)
	}))
}

// TestRoundTrip_Frames: every valid frame in canonical form re-encodes to
// itself: Encode(Decode(x)) == x.
func TestRoundTrip_Frames(t *testing.T) {
	frames := []struct {
		text string
		bins []string
	}{
		{text: `0`}, {text: `0{}`}, {text: `0/custom,`}, {text: `0/custom,{"token":"1"}`},
		{text: `1`}, {text: `1/custom,`},
		{text: `2["a"]`}, {text: `2/chat,["a"]`}, {text: `21["a"]`}, {text: `2/chat,12["a",1]`},
		{text: `2[1]`}, {text: `29007199254740991["a"]`}, {text: `2["héllo €","\u0000\n"]`},
		{text: `2 [ "a" ]`}, {text: `2["a",{"x":1,"x":2}]`},
		{text: `3/chat,12[]`}, {text: `31["a",null,{"b":[1,2]}]`},
		{text: `4{"message":"x"}`}, {text: `4"x"`}, {text: `4/chat,{"message":"x","data":{"a":1}}`},
		{text: `51-["up",` + ph0 + `]`, bins: []string{"\x01\x02"}},
		{text: `52-/chat,9["up",` + ph0 + `,{"_placeholder":true,"num":1}]`, bins: []string{"a", "b"}},
		{text: `51-["up",` + ph0 + `]`, bins: []string{""}},
		{text: placeholderEvent(10), bins: bins(10)},
		{text: `61-/chat,3[` + ph0 + `]`, bins: []string{"a"}},
	}
	for _, f := range frames {
		t.Run(f.text, func(t *testing.T) {
			var d parser.Decoder
			p, err := addAll(t, &d, f.text, f.bins)
			require.NoError(t, err)
			text, attachments := parser.Encode(p)
			assert.Equal(t, f.text, string(text))
			assert.Equal(t, f.bins, view(&parser.Packet{Attachments: attachments}).Attachments)
		})
	}
}

// TestRoundTrip_Random: random packets, with payloads built by the
// Marshal functions from random values, survive Encode then Decoder, and
// their payloads Unmarshal back to the values.
func TestRoundTrip_Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 0x5107))
	for i := range 3000 {
		p, want := randomPacket(t, rng)
		text, attachments := parser.Encode(p)

		var d parser.Decoder
		got, err := d.Add(text, false)
		require.NoError(t, err, "iteration %d: %q", i, text)
		for j, a := range attachments {
			require.Nil(t, got, "iteration %d", i)
			got, err = d.Add(a, true)
			require.NoError(t, err, "iteration %d: attachment %d", i, j)
		}
		require.NotNil(t, got, "iteration %d: %q", i, text)
		require.Equal(t, view(p), view(got), "iteration %d: %q", i, text)

		if want != nil {
			var v any
			require.NoError(t, parser.Unmarshal(got.Data, got.Attachments, &v), "iteration %d", i)
			require.Equal(t, want, v, "iteration %d: %q", i, text)
		}
	}
}

// randomPacket returns a valid packet in the form the Decoder returns
// (binary type if and only if it has attachments) and the value its
// payload unmarshals to (nil if it has none).
func randomPacket(t *testing.T, rng *rand.Rand) (*parser.Packet, any) {
	t.Helper()
	p := &parser.Packet{Type: parser.Type(rng.IntN(7)), Namespace: "/"}
	if rng.IntN(2) == 0 {
		p.Namespace = "/" + strings.ReplaceAll(randomString(rng), ",", "")
	}
	if rng.IntN(2) == 0 {
		p.HasID = true
		p.ID = rng.Uint64N(1 << 53)
		if rng.IntN(4) == 0 {
			p.ID = rng.Uint64N(1000)
		}
	}
	binary := p.Type == parser.BinaryEvent || p.Type == parser.BinaryAck
	var (
		want any
		data []byte
		atts [][]byte
		err  error
	)
	switch p.Type {
	case parser.Connect:
		if rng.IntN(2) == 0 {
			m := randomMap(rng, 2, false)
			want = m
			data, _, err = parser.Marshal(m)
		}
	case parser.Disconnect:
	case parser.ConnectError:
		if rng.IntN(2) == 0 {
			s := randomString(rng)
			want = s
			data, _, err = parser.Marshal(s)
		} else {
			m := map[string]any{"message": randomString(rng), "data": randomValue(rng, 2, false)}
			want = m
			data, _, err = parser.Marshal(m)
		}
	case parser.Event, parser.BinaryEvent:
		name := randomString(rng)
		for parser.IsReserved(name) {
			name = randomString(rng)
		}
		args := randomArgs(rng, binary)
		want = append([]any{name}, args...)
		data, atts, err = parser.MarshalEvent(name, args)
	case parser.Ack, parser.BinaryAck:
		args := randomArgs(rng, binary)
		want = args
		if args == nil {
			want = []any{}
		}
		data, atts, err = parser.MarshalArgs(args)
	}
	require.NoError(t, err)
	p.Data, p.Attachments = data, atts
	switch {
	case p.Type == parser.Event && len(atts) > 0:
		p.Type = parser.BinaryEvent
	case p.Type == parser.Ack && len(atts) > 0:
		p.Type = parser.BinaryAck
	}
	return p, want
}

// randomArgs returns up to 5 random arguments; with binary, at least one
// of them is or holds a []byte.
func randomArgs(rng *rand.Rand, binary bool) []any {
	var args []any
	for range rng.IntN(5) {
		args = append(args, randomValue(rng, 3, rng.IntN(3) == 0))
	}
	if binary {
		i := rng.IntN(len(args) + 1)
		args = append(args[:i], append([]any{randomBytes(rng)}, args[i:]...)...)
	}
	return args
}

// randomValue returns a random value made of what Unmarshal produces in
// an any: nil, bool, float64, string, []any, map[string]any, and (with
// binary) non-nil []byte.
func randomValue(rng *rand.Rand, depth int, binary bool) any {
	n := 5
	if depth > 0 {
		n = 7
	}
	if binary {
		n++
	}
	switch k := rng.IntN(n); {
	case k == 0:
		return nil
	case k == 1:
		return rng.IntN(2) == 0
	case k == 2:
		return float64(rng.IntN(2_000_001) - 1_000_000)
	case k == 3:
		return rng.NormFloat64() * 1e6
	case k == 4:
		return randomString(rng)
	case k == 5 && depth > 0:
		s := []any{}
		for range rng.IntN(4) {
			s = append(s, randomValue(rng, depth-1, binary))
		}
		return s
	case k == 6 && depth > 0:
		return randomMap(rng, depth-1, binary)
	default:
		return randomBytes(rng)
	}
}

func randomMap(rng *rand.Rand, depth int, binary bool) map[string]any {
	m := map[string]any{}
	for range rng.IntN(4) {
		m[randomString(rng)] = randomValue(rng, depth, binary)
	}
	return m
}

func randomBytes(rng *rand.Rand) []byte {
	b := make([]byte, rng.IntN(64))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// randomString returns a short valid UTF-8 string mixing ASCII, control
// characters, characters JSON or HTML escape, and multi-byte runes.
func randomString(rng *rand.Rand) string {
	const alphabet = "abcXYZ019 _-/,\"\\\x00\x01\x1f\t\n<>&\u2028é€😀"
	runes := []rune(alphabet)
	var b strings.Builder
	for range rng.IntN(12) {
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	return b.String()
}

func TestMarshalArgs_Allocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts vary under the race detector")
	}
	args := []any{parser.Raw{JSON: jsontext.Value(`{"t":"xxxxxxxx"}`)}, "s", 42}
	n := testing.AllocsPerRun(100, func() {
		if _, _, err := parser.MarshalArgs(args); err != nil {
			t.Fatal(err)
		}
	})
	// The payload buffer; the encoder is pooled.
	assert.LessOrEqual(t, n, 1.0)
}
