package parser_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/socketio/parser"
)

// pkt is a Packet with strings for bytes, so that testify prints readable
// diffs and compares nil and empty attachments as equal.
type pkt struct {
	Type        parser.Type
	Namespace   string
	ID          uint64
	HasID       bool
	Data        string
	HasData     bool
	Attachments []string
}

func view(p *parser.Packet) *pkt {
	if p == nil {
		return nil
	}
	v := &pkt{Type: p.Type, Namespace: p.Namespace, ID: p.ID, HasID: p.HasID, Data: string(p.Data), HasData: p.Data != nil}
	for _, a := range p.Attachments {
		v.Attachments = append(v.Attachments, string(a))
	}
	return v
}

// pk builds a packet in namespace "/" (or the one given) with data.
func pk(t parser.Type, data string, attachments ...string) *parser.Packet {
	p := &parser.Packet{Type: t, Namespace: "/"}
	if data != "" {
		p.Data = []byte(data)
	}
	for _, a := range attachments {
		p.Attachments = append(p.Attachments, []byte(a))
	}
	return p
}

func withNsp(p *parser.Packet, nsp string) *parser.Packet { p.Namespace = nsp; return p }

func withID(p *parser.Packet, id uint64) *parser.Packet { p.ID, p.HasID = id, true; return p }

const ph0 = `{"_placeholder":true,"num":0}`

// placeholderEvent is a binary event of n attachments, each referenced.
func placeholderEvent(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `%d-["up"`, n)
	for i := range n {
		fmt.Fprintf(&b, `,{"_placeholder":true,"num":%d}`, i)
	}
	return "5" + b.String() + "]"
}

func bins(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("bin%d", i)
	}
	return out
}

// decodeTests is shared with FuzzDecoder, which uses every input as a
// seed. bins are the binary frames sent after the text frame.
var decodeTests = []struct {
	name    string
	in      string
	bins    []string
	want    *parser.Packet
	wantErr error
}{
	// Valid frames (socket.io-protocol README and test-suite).
	{name: "event", in: `2["a"]`, want: pk(parser.Event, `["a"]`)},
	{name: "event namespace", in: `2/chat,["a"]`, want: withNsp(pk(parser.Event, `["a"]`), "/chat")},
	{name: "event ack id", in: `21["a"]`, want: withID(pk(parser.Event, `["a"]`), 1)},
	{name: "event namespace ack id", in: `2/chat,12["a",1]`, want: withID(withNsp(pk(parser.Event, `["a",1]`), "/chat"), 12)},
	{name: "event numeric name", in: `2[1]`, want: pk(parser.Event, `[1]`)},
	{name: "event empty name", in: `2[""]`, want: pk(parser.Event, `[""]`)},
	{name: "event unicode", in: `2["héllo €","\u0000\n"]`, want: pk(parser.Event, `["héllo €","\u0000\n"]`)},
	{name: "event escaped lone surrogate", in: `2["\ud800"]`, want: pk(parser.Event, `["\ud800"]`)},
	{name: "event whitespace", in: "2 [ \"a\" ,1 ]\n", want: pk(parser.Event, " [ \"a\" ,1 ]\n")},
	{name: "event duplicate names", in: `2["a",{"x":1,"x":2}]`, want: pk(parser.Event, `["a",{"x":1,"x":2}]`)},
	{name: "event explicit root namespace", in: `2/,["a"]`, want: pk(parser.Event, `["a"]`)},
	{name: "event ack id leading zeros", in: `2007["a"]`, want: withID(pk(parser.Event, `["a"]`), 7)},
	{name: "event ack id zero", in: `20["a"]`, want: withID(pk(parser.Event, `["a"]`), 0)},
	{name: "event ack id max", in: `29007199254740991["a"]`, want: withID(pk(parser.Event, `["a"]`), 1<<53-1)},
	{name: "event not a placeholder", in: `2["a",{"_placeholder":"true","num":7},{"_placeholder":false}]`,
		want: pk(parser.Event, `["a",{"_placeholder":"true","num":7},{"_placeholder":false}]`)},
	{name: "ack", in: `3/chat,12[]`, want: withID(withNsp(pk(parser.Ack, `[]`), "/chat"), 12)},
	{name: "ack values", in: `31["a",null,{"b":[1,2]}]`, want: withID(pk(parser.Ack, `["a",null,{"b":[1,2]}]`), 1)},
	{name: "connect", in: `0`, want: pk(parser.Connect, "")},
	{name: "connect empty object", in: `0{}`, want: pk(parser.Connect, `{}`)},
	{name: "connect namespace comma", in: `0/custom,`, want: withNsp(pk(parser.Connect, ""), "/custom")},
	{name: "connect namespace no comma", in: `0/custom`, want: withNsp(pk(parser.Connect, ""), "/custom")},
	{name: "connect auth", in: `0/custom,{"token":"1"}`, want: withNsp(pk(parser.Connect, `{"token":"1"}`), "/custom")},
	{name: "connect namespace unicode", in: `0/é€,`, want: withNsp(pk(parser.Connect, ""), "/é€")},
	{name: "connect namespace swallows the rest", in: `0/a{"b":1}`, want: withNsp(pk(parser.Connect, ""), `/a{"b":1}`)},
	// Like Node, any type may carry an ack id, and digits after the
	// namespace are one.
	{name: "connect ack id", in: `0/custom,1`, want: withID(withNsp(pk(parser.Connect, ""), "/custom"), 1)},
	{name: "disconnect", in: `1`, want: pk(parser.Disconnect, "")},
	{name: "disconnect namespace", in: `1/custom,`, want: withNsp(pk(parser.Disconnect, ""), "/custom")},
	{name: "connect error object", in: `4{"message":"x"}`, want: pk(parser.ConnectError, `{"message":"x"}`)},
	{name: "connect error string", in: `4"x"`, want: pk(parser.ConnectError, `"x"`)},
	{name: "binary event", in: `51-["up",` + ph0 + `]`, bins: []string{"\x01\x02"},
		want: pk(parser.BinaryEvent, `["up",`+ph0+`]`, "\x01\x02")},
	{name: "binary event namespace ack id", in: `52-/chat,9["up",` + ph0 + `,{"_placeholder":true,"num":1}]`, bins: []string{"a", "b"},
		want: withID(withNsp(pk(parser.BinaryEvent, `["up",`+ph0+`,{"_placeholder":true,"num":1}]`, "a", "b"), "/chat"), 9)},
	{name: "binary event unreferenced attachment", in: `52-["up",` + ph0 + `]`, bins: []string{"a", "b"},
		want: pk(parser.BinaryEvent, `["up",`+ph0+`]`, "a", "b")},
	{name: "binary event empty attachment", in: `51-["up",` + ph0 + `]`, bins: []string{""},
		want: pk(parser.BinaryEvent, `["up",`+ph0+`]`, "")},
	{name: "binary event nested placeholders", in: `52-["up",{"a":[1,{"b":` + ph0 + `}]},[[{"_placeholder":true,"num":1}]]]`, bins: []string{"a", "b"},
		want: pk(parser.BinaryEvent, `["up",{"a":[1,{"b":`+ph0+`}]},[[{"_placeholder":true,"num":1}]]]`, "a", "b")},
	{name: "binary event placeholder extra members", in: `51-["up",{"x":{"y":[]},"_placeholder":true,"num":0,"z":1}]`, bins: []string{"a"},
		want: pk(parser.BinaryEvent, `["up",{"x":{"y":[]},"_placeholder":true,"num":0,"z":1}]`, "a")},
	{name: "binary event placeholder escaped names", in: `51-["up",{"\u005fplaceholder":true,"n\u0075m":0}]`, bins: []string{"a"},
		want: pk(parser.BinaryEvent, `["up",{"\u005fplaceholder":true,"n\u0075m":0}]`, "a")},
	{name: "binary event placeholder last num wins", in: `51-["up",{"_placeholder":true,"num":5,"num":0}]`, bins: []string{"a"},
		want: pk(parser.BinaryEvent, `["up",{"_placeholder":true,"num":5,"num":0}]`, "a")},
	{name: "binary event placeholder last flag wins", in: `51-["up",{"_placeholder":true,"_placeholder":false,"num":5}]`, bins: []string{"a"},
		want: pk(parser.BinaryEvent, `["up",{"_placeholder":true,"_placeholder":false,"num":5}]`, "a")},
	{name: "binary event placeholder num 0.0", in: `51-["up",{"_placeholder":true,"num":0.0}]`, bins: []string{"a"},
		want: pk(parser.BinaryEvent, `["up",{"_placeholder":true,"num":0.0}]`, "a")},
	{name: "binary event placeholder num -0", in: `51-["up",{"_placeholder":true,"num":-0}]`, bins: []string{"a"},
		want: pk(parser.BinaryEvent, `["up",{"_placeholder":true,"num":-0}]`, "a")},
	{name: "binary event count leading zero", in: `501-["up",` + ph0 + `]`, bins: []string{"a"},
		want: pk(parser.BinaryEvent, `["up",`+ph0+`]`, "a")},
	{name: "binary event 10 attachments", in: placeholderEvent(10), bins: bins(10),
		want: pk(parser.BinaryEvent, placeholderEvent(10)[4:], bins(10)...)},
	{name: "binary ack", in: `61-[` + ph0 + `]`, bins: []string{"a"}, want: pk(parser.BinaryAck, `[`+ph0+`]`, "a")},
	{name: "binary ack namespace ack id", in: `61-/chat,3[` + ph0 + `]`, bins: []string{"a"},
		want: withID(withNsp(pk(parser.BinaryAck, `[`+ph0+`]`, "a"), "/chat"), 3)},

	// Malformed frames: ErrInvalidPacket (RELIABILITY.md rows 19, 20;
	// socket.io-protocol test-suite "invalid format").
	{name: "empty", in: ``, wantErr: parser.ErrInvalidPacket},
	{name: "type 7", in: `7`, wantErr: parser.ErrInvalidPacket},
	{name: "type 9", in: `9["a"]`, wantErr: parser.ErrInvalidPacket},
	{name: "type letter", in: `a`, wantErr: parser.ErrInvalidPacket},
	{name: "type space", in: ` 2["a"]`, wantErr: parser.ErrInvalidPacket},
	{name: "type slash", in: `/chat,`, wantErr: parser.ErrInvalidPacket},
	{name: "type non-ASCII", in: "\xff", wantErr: parser.ErrInvalidPacket},
	{name: "event object", in: `2{}`, wantErr: parser.ErrInvalidPacket},
	{name: "event not JSON", in: `2abc["message-with-ack",1]`, wantErr: parser.ErrInvalidPacket},
	{name: "event empty array", in: `2[]`, wantErr: parser.ErrInvalidPacket},
	{name: "event object name", in: `2[{}]`, wantErr: parser.ErrInvalidPacket},
	{name: "event array name", in: `2[["a"]]`, wantErr: parser.ErrInvalidPacket},
	{name: "event null name", in: `2[null]`, wantErr: parser.ErrInvalidPacket},
	{name: "event boolean name", in: `2[true]`, wantErr: parser.ErrInvalidPacket},
	{name: "event reserved connect", in: `2["connect"]`, wantErr: parser.ErrInvalidPacket},
	{name: "event reserved connect_error", in: `2["connect_error"]`, wantErr: parser.ErrInvalidPacket},
	{name: "event reserved disconnect", in: `2["disconnect"]`, wantErr: parser.ErrInvalidPacket},
	{name: "event reserved disconnecting", in: `2["disconnecting"]`, wantErr: parser.ErrInvalidPacket},
	{name: "event reserved newListener", in: `2["newListener",1]`, wantErr: parser.ErrInvalidPacket},
	{name: "event reserved removeListener", in: `2/chat,["removeListener"]`, wantErr: parser.ErrInvalidPacket},
	{name: "event reserved escaped", in: `2["\u0063onnect"]`, wantErr: parser.ErrInvalidPacket},
	{name: "event string", in: `2"a"`, wantErr: parser.ErrInvalidPacket},
	{name: "event no payload", in: `2`, wantErr: parser.ErrInvalidPacket},
	{name: "event namespace no payload", in: `2/chat,`, wantErr: parser.ErrInvalidPacket},
	{name: "event ack id no payload", in: `21`, wantErr: parser.ErrInvalidPacket},
	{name: "event comma without namespace", in: `2,["a"]`, wantErr: parser.ErrInvalidPacket},
	{name: "event truncated", in: `2["a"`, wantErr: parser.ErrInvalidPacket},
	{name: "event trailing data", in: `2["a"]x`, wantErr: parser.ErrInvalidPacket},
	{name: "event two values", in: `2["a"]["b"]`, wantErr: parser.ErrInvalidPacket},
	{name: "event trailing comma", in: `2["a",]`, wantErr: parser.ErrInvalidPacket},
	{name: "event single quotes", in: `2['a']`, wantErr: parser.ErrInvalidPacket},
	{name: "event raw control character", in: "2[\"a\x01\"]", wantErr: parser.ErrInvalidPacket},
	{name: "event invalid UTF-8", in: "2[\"a\",\"\xff\"]", wantErr: parser.ErrInvalidPacket},
	{name: "event NaN", in: `2["a",NaN]`, wantErr: parser.ErrInvalidPacket},
	{name: "namespace invalid UTF-8", in: "2/\xff,[\"a\"]", wantErr: parser.ErrInvalidPacket},
	{name: "ack id 2^53", in: `29007199254740992["a"]`, wantErr: parser.ErrInvalidPacket},
	{name: "ack id 2^64", in: `218446744073709551616["a"]`, wantErr: parser.ErrInvalidPacket},
	{name: "ack id huge", in: `2/chat,` + strings.Repeat("9", 100) + `["a"]`, wantErr: parser.ErrInvalidPacket},
	{name: "ack object", in: `3{}`, wantErr: parser.ErrInvalidPacket},
	{name: "ack string", in: `3"x"`, wantErr: parser.ErrInvalidPacket},
	{name: "ack no payload", in: `31`, wantErr: parser.ErrInvalidPacket},
	{name: "connect array", in: `0[]`, wantErr: parser.ErrInvalidPacket},
	{name: "connect string", in: `0"x"`, wantErr: parser.ErrInvalidPacket},
	{name: "connect null", in: `0null`, wantErr: parser.ErrInvalidPacket},
	{name: "connect number", in: `0/custom,1.5`, wantErr: parser.ErrInvalidPacket},
	{name: "connect negative number", in: `0-1`, wantErr: parser.ErrInvalidPacket},
	{name: "connect garbage", in: `0/custom,x`, wantErr: parser.ErrInvalidPacket},
	{name: "disconnect payload", in: `1{}`, wantErr: parser.ErrInvalidPacket},
	{name: "disconnect namespace payload", in: `1/custom,"x"`, wantErr: parser.ErrInvalidPacket},
	{name: "connect error array", in: `4[]`, wantErr: parser.ErrInvalidPacket},
	{name: "connect error number", in: `41`, wantErr: parser.ErrInvalidPacket},
	{name: "connect error no payload", in: `4`, wantErr: parser.ErrInvalidPacket},
	{name: "binary event no payload", in: `51-`, wantErr: parser.ErrInvalidPacket},
	{name: "binary event object", in: `51-{}`, wantErr: parser.ErrInvalidPacket},
	{name: "binary event reserved", in: `51-["disconnect",` + ph0 + `]`, wantErr: parser.ErrInvalidPacket},
	{name: "binary ack object", in: `61-{}`, wantErr: parser.ErrInvalidPacket},

	// Attachment counts (RELIABILITY.md row 17).
	{name: "count 11", in: placeholderEvent(11), wantErr: parser.ErrTooManyAttachments},
	{name: "count 11 no placeholders", in: `511-["a"]`, wantErr: parser.ErrTooManyAttachments},
	{name: "count 20 digits", in: `59999999999999999999-["a"]`, wantErr: parser.ErrTooManyAttachments},
	{name: "count 100 digits", in: `5` + strings.Repeat("9", 100) + `-["a"]`, wantErr: parser.ErrTooManyAttachments},
	{name: "count binary ack 11", in: `611-[]`, wantErr: parser.ErrTooManyAttachments},
	{name: "count negative", in: `5-1-["a"]`, wantErr: parser.ErrIllegalAttachments},
	{name: "count letters", in: `5abc-["a"]`, wantErr: parser.ErrIllegalAttachments},
	{name: "count empty", in: `5-["a"]`, wantErr: parser.ErrIllegalAttachments},
	{name: "count zero", in: `50-["a"]`, wantErr: parser.ErrIllegalAttachments},
	{name: "count float", in: `51.0-["a"]`, wantErr: parser.ErrIllegalAttachments},
	{name: "count exponent", in: `51e1-["a"]`, wantErr: parser.ErrIllegalAttachments},
	{name: "count space", in: `5 1-["a"]`, wantErr: parser.ErrIllegalAttachments},
	{name: "count no dash", in: `51["a"]`, wantErr: parser.ErrIllegalAttachments},
	{name: "count only type", in: `5`, wantErr: parser.ErrIllegalAttachments},
	{name: "count only type ack", in: `6`, wantErr: parser.ErrIllegalAttachments},
	{name: "count namespace first", in: `5/chat,1-["a"]`, wantErr: parser.ErrIllegalAttachments},

	// Placeholders (RELIABILITY.md row 18, CVE-2022-2421).
	{name: "placeholder num out of range", in: `51-["a",{"_placeholder":true,"num":1}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder num far out of range", in: `52-["a",{"_placeholder":true,"num":1e20}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder num infinite", in: `52-["a",{"_placeholder":true,"num":1e400}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder num negative", in: `51-["a",{"_placeholder":true,"num":-1}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder num float", in: `52-["a",{"_placeholder":true,"num":1.5}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder num tiny float", in: `52-["a",{"_placeholder":true,"num":0.5e-300}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder num string", in: `51-["a",{"_placeholder":true,"num":"0"}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder num null", in: `51-["a",{"_placeholder":true,"num":null}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder num array", in: `51-["a",{"_placeholder":true,"num":[0]}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder num object", in: `51-["a",{"_placeholder":true,"num":` + ph0 + `}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder num missing", in: `51-["a",{"_placeholder":true}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder last num wins", in: `51-["a",{"_placeholder":true,"num":0,"num":1}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder nested out of range", in: `51-["a",{"x":[[{"_placeholder":true,"num":3}]]}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder inside placeholder", in: `51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":1}}]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder in event", in: `2["a",` + ph0 + `]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder in ack", in: `3/chat,1[` + ph0 + `]`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder in connect", in: `0{"a":` + ph0 + `}`, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder as connect", in: `0` + ph0, wantErr: parser.ErrIllegalAttachments},
	{name: "placeholder in connect error", in: `4{"message":"x","data":` + ph0 + `}`, wantErr: parser.ErrIllegalAttachments},
}

// addAll feeds the text frame and the binary frames to a new Decoder and
// returns the packet and the first error. It checks that no packet is
// returned before the last frame.
func addAll(t *testing.T, d *parser.Decoder, text string, bins []string) (*parser.Packet, error) {
	t.Helper()
	p, err := d.Add([]byte(text), false)
	if err != nil || len(bins) == 0 {
		return p, err
	}
	require.Nil(t, p, "packet before its attachments")
	require.True(t, d.Pending())
	for i, b := range bins {
		p, err = d.Add([]byte(b), true)
		if err != nil {
			return p, err
		}
		if i < len(bins)-1 {
			require.Nil(t, p, "packet before attachment %d", i+1)
			require.True(t, d.Pending())
		}
	}
	return p, nil
}

func TestDecoder(t *testing.T) {
	for _, tt := range decodeTests {
		t.Run(tt.name, func(t *testing.T) {
			var d parser.Decoder
			got, err := addAll(t, &d, tt.in, tt.bins)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, got)
				assert.False(t, d.Pending(), "reset after an error")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, view(tt.want), view(got))
			assert.False(t, d.Pending())
		})
	}
}

// TestDecoder_ErrorMessages: the messages carry Node's text, so that logs
// read the same as with the Node.js server.
func TestDecoder_ErrorMessages(t *testing.T) {
	for in, want := range map[string]string{
		`7`:                              "unknown packet type",
		`2abc["a"]`:                      "invalid payload",
		`511-["a"]`:                      "too many attachments",
		`5abc-["a"]`:                     "illegal attachments",
		`51-["a",{"_placeholder":true}]`: "illegal attachments",
	} {
		var d parser.Decoder
		_, err := d.Add([]byte(in), false)
		assert.ErrorContains(t, err, want, in)
	}
	var d parser.Decoder
	_, err := d.Add([]byte("x"), true)
	assert.EqualError(t, err, "socketio/parser: got binary data when not reconstructing a packet")
	_, err = d.Add([]byte(`51-["a",`+ph0+`]`), false)
	require.NoError(t, err)
	_, err = d.Add([]byte(`2["a"]`), false)
	assert.EqualError(t, err, "socketio/parser: got plaintext data when reconstructing a packet")
}

// TestDecoder_AttachmentBoundary: counts 1 to 10 are accepted, 11 is not
// (RELIABILITY.md row 17, socket.io-parser 4.2.6).
func TestDecoder_AttachmentBoundary(t *testing.T) {
	for n := 1; n <= 11; n++ {
		var d parser.Decoder
		p, err := addAll(t, &d, placeholderEvent(n), bins(n))
		if n > parser.DefaultMaxAttachments {
			require.ErrorIs(t, err, parser.ErrTooManyAttachments, "count %d", n)
			continue
		}
		require.NoError(t, err, "count %d", n)
		require.Len(t, p.Attachments, n)
		assert.Equal(t, "bin0", string(p.Attachments[0]))
	}
}

func TestDecoder_MaxAttachments(t *testing.T) {
	tests := []struct {
		max     int
		count   int
		wantErr error
	}{
		{max: 0, count: 10},
		{max: 0, count: 11, wantErr: parser.ErrTooManyAttachments},
		{max: 1, count: 1},
		{max: 1, count: 2, wantErr: parser.ErrTooManyAttachments},
		{max: 20, count: 20},
		{max: 20, count: 21, wantErr: parser.ErrTooManyAttachments},
		{max: -1, count: 1, wantErr: parser.ErrTooManyAttachments},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("max %d count %d", tt.max, tt.count), func(t *testing.T) {
			d := parser.Decoder{MaxAttachments: tt.max}
			p, err := addAll(t, &d, placeholderEvent(tt.count), bins(tt.count))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Len(t, p.Attachments, tt.count)
		})
	}
}

// TestDecoder_Sequences: frames out of order (RELIABILITY.md row 18).
func TestDecoder_Sequences(t *testing.T) {
	binaryText := []byte(`52-["a",` + ph0 + `]`)

	t.Run("binary frame when none pending", func(t *testing.T) {
		var d parser.Decoder
		p, err := d.Add([]byte{1, 2, 3}, true)
		require.ErrorIs(t, err, parser.ErrUnexpectedBinary)
		assert.Nil(t, p)
		// Still usable.
		p, err = d.Add([]byte(`2["a"]`), false)
		require.NoError(t, err)
		assert.Equal(t, `["a"]`, string(p.Data))
	})
	t.Run("binary frame after a complete packet", func(t *testing.T) {
		var d parser.Decoder
		_, err := addAll(t, &d, string(binaryText), []string{"a", "b"})
		require.NoError(t, err)
		_, err = d.Add([]byte("c"), true)
		require.ErrorIs(t, err, parser.ErrUnexpectedBinary)
	})
	t.Run("text frame while pending", func(t *testing.T) {
		var d parser.Decoder
		p, err := d.Add(binaryText, false)
		require.NoError(t, err)
		require.Nil(t, p)
		p, err = d.Add([]byte("a"), true)
		require.NoError(t, err)
		require.Nil(t, p)
		p, err = d.Add([]byte(`2["a"]`), false)
		require.ErrorIs(t, err, parser.ErrUnexpectedText)
		assert.Nil(t, p)
		assert.False(t, d.Pending(), "reset after the error")
		// The next packet decodes from scratch.
		p, err = addAll(t, &d, string(binaryText), []string{"x", "y"})
		require.NoError(t, err)
		assert.Equal(t, []string{"x", "y"}, view(p).Attachments)
	})
	t.Run("binary packets back to back", func(t *testing.T) {
		var d parser.Decoder
		for i := range 3 {
			p, err := addAll(t, &d, string(binaryText), []string{fmt.Sprint(i), "b"})
			require.NoError(t, err)
			assert.Equal(t, []string{fmt.Sprint(i), "b"}, view(p).Attachments)
		}
	})
	t.Run("reset drops the pending packet", func(t *testing.T) {
		var d parser.Decoder
		_, err := d.Add(binaryText, false)
		require.NoError(t, err)
		require.True(t, d.Pending())
		d.Reset()
		assert.False(t, d.Pending())
		_, err = d.Add([]byte("a"), true)
		require.ErrorIs(t, err, parser.ErrUnexpectedBinary)
	})
	t.Run("invalid text frame while pending", func(t *testing.T) {
		var d parser.Decoder
		_, err := d.Add(binaryText, false)
		require.NoError(t, err)
		_, err = d.Add([]byte(`7`), false)
		require.ErrorIs(t, err, parser.ErrUnexpectedText)
	})
}

// TestDecoder_Aliasing documents that decoding is zero-copy: Data and
// attachments alias the frames, with no spare capacity.
func TestDecoder_Aliasing(t *testing.T) {
	var d parser.Decoder
	text := make([]byte, 0, 64)
	text = append(text, `51-/chat,["a",`+ph0+`]`...)
	bin := make([]byte, 3, 16)
	p, err := d.Add(text, false)
	require.NoError(t, err)
	require.Nil(t, p)
	p, err = d.Add(bin, true)
	require.NoError(t, err)
	assert.Same(t, &text[len(text)-len(p.Data)], &p.Data[0])
	assert.Equal(t, len(p.Data), cap(p.Data))
	assert.Same(t, &bin[0], &p.Attachments[0][0])
	assert.Equal(t, 3, cap(p.Attachments[0]))
}

func TestType(t *testing.T) {
	names := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}
	types := []parser.Type{parser.Connect, parser.Disconnect, parser.Event, parser.Ack, parser.ConnectError, parser.BinaryEvent, parser.BinaryAck}
	for i, typ := range types {
		assert.Equal(t, parser.Type(i), typ, "wire value of %s", names[i])
		assert.Equal(t, names[i], typ.String())
		assert.True(t, typ.Valid(), names[i])
	}
	for _, typ := range []parser.Type{7, 9, '0', 0xff} {
		assert.False(t, typ.Valid(), "Type(%d)", byte(typ))
		assert.Equal(t, fmt.Sprintf("Type(%d)", byte(typ)), typ.String())
	}
}

func TestIsReserved(t *testing.T) {
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		assert.True(t, parser.IsReserved(name), name)
	}
	for _, name := range []string{"", "error", "message", "Connect", "connect ", "newlistener", "ping"} {
		assert.False(t, parser.IsReserved(name), name)
	}
}

// Every sentinel is distinct, so errors.Is tells the cases apart.
func TestErrors_Distinct(t *testing.T) {
	errs := []error{parser.ErrInvalidPacket, parser.ErrTooManyAttachments, parser.ErrIllegalAttachments, parser.ErrUnexpectedBinary, parser.ErrUnexpectedText}
	for i, a := range errs {
		for j, b := range errs {
			assert.Equal(t, i == j, errors.Is(a, b), "%v / %v", a, b)
		}
	}
}
