package wire

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

var testAtts = [][]byte{{0xa0}, {0xa1}, {0xa2}}

func TestFromJSON(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want any
	}{
		{"key order", `{"b":1,"a":2,"c":{"z":null,"y":true}}`, Object{{"b", int64(1)}, {"a", int64(2)}, {"c", Object{{"z", nil}, {"y", true}}}}},
		{"empty", `[{},[]]`, []any{Object{}, []any{}}},
		{"duplicates", `{"a":1,"b":2,"a":3}`, Object{{"a", int64(3)}, {"b", int64(2)}}},
		{"nested arrays", `[[1,[2,[3]]],"x"]`, []any{[]any{int64(1), []any{int64(2), []any{int64(3)}}}, "x"}},
		{"literals", `[true,false,null]`, []any{true, false, nil}},
		{"zero", `0`, int64(0)},
		{"minus zero", `-0`, int64(0)},
		{"minus zero float", `-0.0`, int64(0)},
		{"integral float", `1.0`, int64(1)},
		{"exponent integer", `1e3`, int64(1000)},
		{"fraction", `1.5`, 1.5},
		{"negative", `-7`, int64(-7)},
		{"2^53", `9007199254740992`, int64(1 << 53)},
		{"2^53+1 exact", `9007199254740993`, int64(1<<53 + 1)},
		{"max int64", `9223372036854775807`, int64(math.MaxInt64)},
		{"min int64", `-9223372036854775808`, int64(math.MinInt64)},
		{"uint64", `18446744073709551615`, uint64(math.MaxUint64)},
		{"beyond uint64", `18446744073709551616`, 18446744073709551616.0},
		{"below int64", `-9223372036854775809`, -9223372036854775809.0},
		{"1e21", `1e21`, 1e21},
		{"large float exponent", `1.2345678901234567e18`, 1.2345678901234567e18},
		{"tiny", `1e-7`, 1e-7},
		{"overflow", `1e400`, math.Inf(1)},
		{"negative overflow", `-1e400`, math.Inf(-1)},
		{"unicode", `"héllo 😀 中"`, "héllo 😀 中"},
		{"escapes", `"\"\\\/\b\f\n\r\t\u0001\u00e9\u2028"`, "\"\\/\b\f\n\r\t\x01é\u2028"},
		{"surrogate pair", `"\ud83d\ude00"`, "😀"},
		{"lone high surrogate", `"a\ud800b"`, "a\xed\xa0\x80b"},
		{"lone low surrogate", `"\udc00"`, "\xed\xb0\x80"},
		{"high then high", `"\ud83d\ud83d\ude00"`, "\xed\xa0\xbd😀"},
		{"placeholder", `{"_placeholder":true,"num":1}`, testAtts[1]},
		{"placeholder deep", `[{"a":[{"b":{"_placeholder":true,"num":2}}]}]`, []any{Object{{"a", []any{Object{{"b", testAtts[2]}}}}}}},
		{"placeholder num float", `{"num":0.0,"_placeholder":true}`, testAtts[0]},
		{"placeholder extra members", `{"_placeholder":true,"num":0,"x":1}`, testAtts[0]},
		{"placeholder false", `{"_placeholder":false,"num":9}`, Object{{"_placeholder", false}, {"num", int64(9)}}},
		{"placeholder string true", `{"_placeholder":"true","num":9}`, Object{{"_placeholder", "true"}, {"num", int64(9)}}},
		{"placeholder last wins", `{"_placeholder":true,"_placeholder":false}`, Object{{"_placeholder", false}}},
		{"whitespace", " [ 1 , {\"a\" : 2} ]\n", []any{int64(1), Object{{"a", int64(2)}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromJSON([]byte(tt.in), testAtts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromJSON(%s)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
			if b, ok := got.([]byte); ok && &b[0] != &tt.want.([]byte)[0] {
				t.Error("attachment copied, not aliased")
			}
		})
	}
}

func TestFromJSONErrors(t *testing.T) {
	for _, tt := range []struct {
		in          string
		placeholder bool // the error wraps parser.ErrIllegalAttachments
	}{
		{`{"_placeholder":true,"num":3}`, true},
		{`{"_placeholder":true,"num":-1}`, true},
		{`{"_placeholder":true,"num":1.5}`, true},
		{`{"_placeholder":true,"num":"0"}`, true},
		{`{"_placeholder":true}`, true},
		{`[1,{"a":{"_placeholder":true,"num":99}}]`, true},
		{`{"num":0,"_placeholder":true,"num":7}`, true},
		{``, false},
		{`[1,`, false},
		{`[1]]`, false},
		{`[1] [2]`, false},
		{`{"a"}`, false},
		{`{1:2}`, false},
		{`nul`, false},
		{`01`, false},
		{`"\x"`, false},
		{`[` + string(bytes.Repeat([]byte(`[`), 10001)) + string(bytes.Repeat([]byte(`]`), 10002)), false},
	} {
		_, err := FromJSON([]byte(tt.in), testAtts)
		if err == nil {
			t.Errorf("FromJSON(%.40s) succeeded", tt.in)
			continue
		}
		if got := errors.Is(err, parser.ErrIllegalAttachments); got != tt.placeholder {
			t.Errorf("FromJSON(%.40s): %v; wraps ErrIllegalAttachments = %v, want %v", tt.in, err, got, tt.placeholder)
		}
	}
	// Without attachments, every placeholder is illegal, as in parser.Unmarshal.
	if _, err := FromJSON([]byte(`[{"_placeholder":true,"num":0}]`), nil); !errors.Is(err, parser.ErrIllegalAttachments) {
		t.Errorf("placeholder without attachments: %v", err)
	}
}

func TestToJSON(t *testing.T) {
	point1, point2 := 0.1, 0.2 // not constants: 0.1 + 0.2 as constants is 0.3
	date := time.Date(2024, 2, 29, 23, 59, 58, 123_999_999, time.FixedZone("x", 3600))
	for _, tt := range []struct {
		name string
		in   any
		want string
		atts [][]byte
	}{
		{"object order", Object{{"b", int64(1)}, {"a", int64(2)}}, `{"b":1,"a":2}`, nil},
		{"empty", []any{Object{}, []any{}, map[string]any{}}, `[{},[],{}]`, nil},
		{"nil containers", []any{Object(nil), []any(nil), map[string]any(nil), []byte(nil)}, `[null,null,null,null]`, nil},
		{"map sorted", map[string]any{"b": 1, "a": map[string]any{"d": 1, "c": 2}}, `{"a":{"c":2,"d":1},"b":1}`, nil},
		{"integers", []any{int64(-7), int64(math.MaxInt64), uint64(math.MaxUint64), 3}, `[-7,9223372036854775807,18446744073709551615,3]`, nil},
		{"floats", []any{0.0, math.Copysign(0, -1), 1.5, 1e21, 1e20, 1e-7, 1.5e-7, 0.000001, 123e-20, point1 + point2, -1e300, 5e-324, math.MaxFloat64, 3.0, float64(1<<53 + 2)},
			`[0,0,1.5,1e+21,100000000000000000000,1e-7,1.5e-7,0.000001,1.23e-18,0.30000000000000004,-1e+300,5e-324,1.7976931348623157e+308,3,9007199254740994]`, nil},
		{"non-finite", []any{math.NaN(), math.Inf(1), math.Inf(-1)}, `[null,null,null]`, nil},
		{"strings", "\"\\/\b\f\n\r\t\x00\x1f\x7f<>&\u2028\u2029é😀", `"\"\\/\b\f\n\r\t\u0000\u001f` + "\x7f<>&\u2028\u2029é😀" + `"`, nil},
		{"lone surrogates", "a\xed\xa0\x80b\xed\xbf\xbf", `"a\ud800b\udfff"`, nil},
		{"surrogate pair in generalized UTF-8", "\xed\xa0\xbd\xed\xb8\x80", `"😀"`, nil},
		{"low then high", "\xed\xb8\x80\xed\xa0\xbd", `"\ude00\ud83d"`, nil},
		{"invalid UTF-8", "a\xffb\xc3", "\"a\ufffdb\ufffd\"", nil},
		{"binary", []any{"f", []byte{1}, Object{{"x", []any{[]byte{2}}}}, []byte{}},
			`["f",{"_placeholder":true,"num":0},{"x":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":2}]`, [][]byte{{1}, {2}, {}}},
		{"date", date, `"2024-02-29T22:59:58.123Z"`, nil},
		{"date epoch", time.Unix(0, 0), `"1970-01-01T00:00:00.000Z"`, nil},
		{"date before epoch", time.Unix(-1, 500_000), `"1969-12-31T23:59:59.001Z"`, nil}, // -999.5 ms truncated toward zero
		{"date year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), `"+010000-01-01T00:00:00.000Z"`, nil},
		{"date year -1", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), `"-000001-01-01T00:00:00.000Z"`, nil},
		{"date out of range", time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), `null`, nil},
		{"other types", []any{struct {
			A int `json:"a"`
		}{1}, []string{"x"}}, `[{"a":1},["x"]]`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, atts, err := ToJSON(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("ToJSON(%#v)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if !reflect.DeepEqual(atts, tt.atts) {
				t.Errorf("attachments %q, want %q", atts, tt.atts)
			}
			if !jsontext.Value(got).IsValid(jsontext.AllowInvalidUTF8(true)) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
	deep := any("x")
	for range maxJSONDepth + 1 {
		deep = []any{deep}
	}
	if _, _, err := ToJSON(deep); err == nil {
		t.Error("ToJSON of a value deeper than maxJSONDepth succeeded")
	}
}

// TestJSONStringsMatchJSONText checks the quoting against jsontext's with
// the options of socketio/parser.Marshal, which matches JSON.stringify
// for valid UTF-8.
func TestJSONStringsMatchJSONText(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		var sb bytes.Buffer
		for range r.IntN(20) {
			switch r.IntN(4) {
			case 0:
				sb.WriteByte(byte(r.IntN(0x80)))
			case 1:
				sb.WriteRune(rune(r.IntN(0x800)))
			default:
				if c := rune(r.IntN(0x110000)); utf8.ValidRune(c) {
					sb.WriteRune(c)
				}
			}
		}
		s := sb.String()
		want, err := jsontext.AppendQuote(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, jsontext %s", s, got, want)
		}
	}
}

// TestJSONRoundTrip: JSON written by socketio/parser.Marshal or as
// JSON.stringify writes it comes back byte for byte, key order included.
func TestJSONRoundTrip(t *testing.T) {
	stringified := []string{
		`["chat",{"nick":"ann","text":"hello","at":1700000000000}]`,
		`{"z":1,"a":{"y":[1,2,{"x":null,"b":"c"}],"b":false},"m":"é\u0000\n"}`,
		`[0,-7,1.5,-1.5,1e+21,1e-7,0.30000000000000004,9007199254740993,18446744073709551615,100000000000000000000,1.7976931348623157e+308,5e-324]`,
		`["\ud800","a\udfffb","😀","\"\\\b\f\n\r\t\u001f","<>&` + "\u2028\u007f" + `"]`,
		`[{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}},[{"_placeholder":true,"num":2}]]`,
		`{"":{"":[]},"__proto__":{},"constructor":0}`,
		`[[[[[[[[[[[]]]]]]]]]]]`,
		`"just a string"`, `true`, `null`, `0`, `{}`, `[]`,
	}
	check := func(in []byte, atts [][]byte) {
		t.Helper()
		v, err := FromJSON(in, atts)
		if err != nil {
			t.Fatalf("FromJSON(%s): %v", in, err)
		}
		out, outAtts, err := ToJSON(v)
		if err != nil {
			t.Fatalf("ToJSON: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip\n  in %s\n out %s", in, out)
		}
		if n := bytes.Count(in, []byte(`"_placeholder"`)); len(outAtts) != n {
			t.Fatalf("%d attachments, want %d", len(outAtts), n)
		}
		for i := range outAtts {
			if &outAtts[i][0] != &atts[i][0] { // JSON.stringify numbers them in order
				t.Fatalf("attachment %d not the same slice", i)
			}
		}
	}
	for _, s := range stringified {
		check([]byte(s), testAtts)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		v := randomValue(r, 4)
		in, atts, err := parser.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		check(in, atts)
	}
}

// randomValue returns a random Go value of the kinds socketio/parser
// marshals as JSON.stringify would (no -0: JSON.stringify writes 0).
func randomValue(r *rand.Rand, depth int) any {
	n := r.IntN(10)
	if depth == 0 {
		n %= 6
	}
	switch n {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.Int64() >> r.IntN(64)
	case 3:
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
			return 0.25
		}
		return f
	case 4:
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(0x80))
		}
		return string(b) + string(rune(r.IntN(0xd800)))
	case 5:
		return []byte{byte(r.Uint32())}
	case 6, 7:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randomValue(r, depth-1)
		}
		return a
	default:
		m := map[string]any{}
		for range r.IntN(4) {
			m[string(rune('a'+r.IntN(26)))] = randomValue(r, depth-1)
		}
		return m
	}
}

// TestObjectOrderMsgpack checks that an Object crosses MessagePack in its
// order, as the bytes show and as Decode returns it.
func TestObjectOrderMsgpack(t *testing.T) {
	keys := []string{"zeta", "alpha", "mu", "beta", "omega", "a", "z", "b"}
	var o Object
	for i, k := range keys {
		o = append(o, Member{k, int64(i)})
	}
	data := []any{"ev", o, Object{{"y", Object{{"d", 1.5}, {"c", "x"}}}, {"x", nil}}}
	b, err := Encode(&Message{UID: "u", NSP: "/", Type: Broadcast, Data: &BroadcastData{Opts: testOpts, Packet: WirePacket{Type: PacketEvent, Data: data}}})
	if err != nil {
		t.Fatal(err)
	}
	// The raw map keys appear in order.
	at := 0
	for _, k := range keys {
		i := bytes.Index(b[at:], append([]byte{0xa0 | byte(len(k))}, k...))
		if i < 0 {
			t.Fatalf("key %q not found after offset %d in order", k, at)
		}
		at += i + 1
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Data.(*BroadcastData).Packet.Data; !reflect.DeepEqual(got, data) {
		t.Errorf("decoded\n got %#v\nwant %#v", got, data)
	}
	p, err := PacketFromWire(m.Data.(*BroadcastData).Packet, "/")
	if err != nil {
		t.Fatal(err)
	}
	if want := `["ev",{"zeta":0,"alpha":1,"mu":2,"beta":3,"omega":4,"a":5,"z":6,"b":7},{"y":{"d":1.5,"c":"x"},"x":null}]`; string(p.Data) != want {
		t.Errorf("JSON %s\nwant %s", p.Data, want)
	}
}

// TestDecodeDuplicateKeys: a repeated map key keeps its first position
// and takes its last value, as in Node's decoder, small map or large.
func TestDecodeDuplicateKeys(t *testing.T) {
	for _, n := range []int{3, linearDedupe + 5} {
		var buf bytes.Buffer
		e := msgpack.NewEncoder(&buf)
		_ = e.EncodeMapLen(n + 1)
		var want Object
		for i := range n {
			k := string(rune('a' + i))
			_ = e.EncodeString(k)
			_ = e.EncodeInt(int64(i))
			want = append(want, Member{k, int64(i)})
		}
		_ = e.EncodeString("b") // again
		_ = e.EncodeInt(99)
		want[1].Value = int64(99)
		msg := enc(t, map[string]any{"uid": "u", "nsp": "/", "type": 9, "data": map[string]any{"packet": []any{"e"}}})
		// Replace the packet's "e" with the map: rebuild by hand.
		msg = bytes.Replace(msg, []byte{0x91, 0xa1, 'e'}, append([]byte{0x92, 0xa1, 'e'}, buf.Bytes()...), 1)
		m, err := Decode(msg)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Data.(*ServerSideEmitData).Packet[1]; !reflect.DeepEqual(got, want) {
			t.Errorf("n=%d:\n got %#v\nwant %#v", n, got, want)
		}
	}
}

func TestSocketConversionOrder(t *testing.T) {
	// Socket data and auth keep their order; they carry no attachments,
	// so a placeholder is an ordinary object and []byte is base64.
	data := `{"z":1,"a":{"_placeholder":true,"num":0},"m":[1.5,"x"]}`
	s, err := SocketFromInfo(adapterSocketInfo(data))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info()
	if err != nil {
		t.Fatal(err)
	}
	if string(info.Data) != data || string(info.Handshake.Auth) != `{"token":"t","a":0}` {
		t.Errorf("got %s %s", info.Data, info.Handshake.Auth)
	}
	s.Data = Object{{"b", []byte{1, 2}}}
	if info, err = s.Info(); err != nil || string(info.Data) != `{"b":"AQI="}` {
		t.Errorf("binary socket data: %s, %v", info.Data, err)
	}
}

// BenchmarkConvertEvent compares the conversion of a typical event to
// its cluster form and back: the former path through socketio/parser
// (map[string]any, float64) and FromJSON/ToJSON.
func BenchmarkConvertEvent(b *testing.B) {
	in := []byte(`["chat",{"nick":"ann","text":"hello","at":1700000000000}]`)
	b.Run("parser", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := parser.Unmarshal(in, nil, &v); err != nil {
				b.Fatal(err)
			}
			if _, _, err := parser.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, err := FromJSON(in, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := ToJSON(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func adapterSocketInfo(data string) adapter.SocketInfo {
	return adapter.SocketInfo{ID: "s", Data: jsontext.Value(data),
		Handshake: adapter.Handshake{Auth: jsontext.Value(`{"token":"t","a":0}`)}}
}
