package wire

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/socketio/parser"
)

func FuzzDecode(f *testing.F) {
	for _, m := range []*Message{
		{UID: "a", NSP: "/", Type: Heartbeat},
		{UID: "a", NSP: "/", Type: Broadcast, Data: &BroadcastData{Opts: testOpts, Packet: WirePacket{Type: 2, Data: []any{"e", []byte{1}}, ID: 1, HasID: true}, RequestID: "r"}},
		{UID: "a", NSP: "/", Type: FetchSocketsResponse, Data: &FetchSocketsResponseData{RequestID: "r", Sockets: []Socket{{ID: "s", Handshake: Handshake{Headers: map[string][]string{"a": {"b"}}}}}}},
		{UID: "a", NSP: "/", Type: ServerSideEmit, Data: &ServerSideEmitData{RequestID: "r", Packet: []any{"e", 1.5}}},
		{UID: "a", NSP: "/", Type: Broadcast, Data: &BroadcastData{Opts: testOpts, Packet: WirePacket{Type: 2, Data: []any{"e", Object{{"z", int64(1)}, {"a", Object{{"y", []byte{2}}, {"b", nil}}}}}}}},
		{UID: "a", NSP: "/", Type: BroadcastAck, Data: &BroadcastAckData{RequestID: "r", Packet: Object{{"b", 1.5}, {"a", "x"}}, Args: []any{Object{{"b", 1.5}, {"a", "x"}}, int64(-7)}}},
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
				// The JSON of a decoded value is a fixpoint: read back
				// and written again, it is the same bytes.
				w, err := PacketToWire(p)
				if err != nil {
					t.Fatalf("PacketToWire of %s: %v", p.Data, err)
				}
				q, err := PacketFromWire(w, m.NSP)
				if err != nil {
					t.Fatalf("PacketFromWire: %v", err)
				}
				if !bytes.Equal(q.Data, p.Data) || len(q.Attachments) != len(p.Attachments) {
					t.Fatalf("JSON not a fixpoint:\n%s\n%s", p.Data, q.Data)
				}
			}
		}
	})
}

// FuzzJSON checks FromJSON against socketio/parser on any input: it never
// panics, fails where parser.Unmarshal fails, and ToJSON writes back the
// same value (as parser.Unmarshal reads both) with the same key order
// (FromJSON reads back the same Objects), a JSON text that is a fixpoint.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`["chat",{"nick":"ann","text":"hello","at":1700000000000}]`,
		`{"b":1,"a":[1.5,-0,1e21,1e-7,1e400,9007199254740993,18446744073709551616]}`,
		`{"a":1,"b":2,"a":{"c":3}}`,
		`["\ud800\udc00\ud800x\udfff","\u0000\"\\/\b\f\n\r\t",` + "\"\u2028é😀\xff\"]",
		`[{"_placeholder":true,"num":2},{"x":{"num":0,"_placeholder":true}}]`,
		`{"_placeholder":true,"num":1.5}`,
		`{"_placeholder":false,"num":0}`,
		`[[[[{"":[{}]}]]]]`,
		` 1.0e+2 `,
		`[1,2`,
	} {
		f.Add([]byte(s))
	}
	atts := [][]byte{{0}, {1}, {2}}
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := FromJSON(in, atts)
		var ref any
		refErr := parser.Unmarshal(in, atts, &ref)
		if err != nil {
			if refErr == nil && utf8.Valid(in) {
				t.Fatalf("FromJSON(%q) = %v, parser.Unmarshal succeeded", in, err)
			}
			return
		}
		out, outAtts, err := ToJSON(v)
		if err != nil {
			t.Fatalf("ToJSON(%#v): %v", v, err)
		}
		if !jsontext.Value(out).IsValid(jsontext.AllowInvalidUTF8(true)) || !utf8.Valid(out) {
			t.Fatalf("ToJSON wrote invalid JSON %q", out)
		}
		v2, err := FromJSON(out, outAtts)
		if err != nil {
			t.Fatalf("FromJSON(ToJSON(%q)) = %q: %v", in, out, err)
		}
		if !sameValue(v2, finite(v)) {
			t.Fatalf("value changed:\n  in %q\n out %q\n%#v\n%#v", in, out, v, v2)
		}
		out2, _, err := ToJSON(v2)
		if err != nil || !bytes.Equal(out2, out) {
			t.Fatalf("not a fixpoint: %q then %q (%v)", out, out2, err)
		}
		// An independent reader sees the same value (v1 semantics: all
		// numbers float64, objects as maps).
		var got any
		if err := parser.Unmarshal(out, outAtts, &got); err != nil {
			t.Fatalf("parser.Unmarshal(%q): %v", out, err)
		}
		if refErr == nil && !reflect.DeepEqual(got, ref) {
			t.Fatalf("parser reads\n  in %q as %#v\n out %q as %#v", in, ref, out, got)
		}
	})
}

// sameValue is reflect.DeepEqual, except that numbers of different
// types are equal when they denote the same number: a float64 that is
// an integer beyond 2^53 (1e19) is written with all its digits, which
// read back as an integer.
func sameValue(a, b any) bool {
	if x, ok := exactNumber(a); ok {
		y, ok := exactNumber(b)
		return ok && x.Cmp(y) == 0
	}
	switch a := a.(type) {
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	case Object:
		b, ok := b.(Object)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i].Key != b[i].Key || !sameValue(a[i].Value, b[i].Value) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func exactNumber(v any) (*big.Float, bool) {
	switch v := v.(type) {
	case int64:
		return new(big.Float).SetInt64(v), true
	case uint64:
		return new(big.Float).SetUint64(v), true
	case float64:
		return big.NewFloat(v), true
	}
	return nil, false
}

// finite replaces the infinities of v (JSON numbers beyond the float64
// range) by nil, as JSON.stringify writes them null.
func finite(v any) any {
	switch v := v.(type) {
	case float64:
		if math.IsInf(v, 0) {
			return nil
		}
	case []any:
		for i := range v {
			v[i] = finite(v[i])
		}
	case Object:
		for i := range v {
			v[i].Value = finite(v[i].Value)
		}
	}
	return v
}
