package parser

import (
	"math"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flatEquivalent checks that marshalFlat writes what marshal writes, or
// declines exactly when marshal fails.
func flatEquivalent(t *testing.T, head string, hasHead bool, args []any) {
	t.Helper()
	vals := []any{}
	if hasHead {
		vals = append(vals, head)
	}
	want, wantAtts, wantErr := marshal(append(vals, args...))
	got, gotAtts, ok := marshalFlat(head, hasHead, args)
	if wantErr != nil {
		assert.False(t, ok, "marshalFlat wrote %q where marshal failed: %v", got, wantErr)
		return
	}
	require.True(t, ok, "marshalFlat declined %#v, which marshal writes as %q", args, want)
	assert.Equal(t, string(want), string(got))
	assert.Equal(t, wantAtts, gotAtts)
}

func TestMarshalFlatMatchesMarshal(t *testing.T) {
	strs := []string{"", "a", `"`, `\`, "<&>", "\u2028\u2029", "\x00\x01\x1f\x7f", "\b\f\n\r\t",
		"\xff", "a\xed\xa0\x80b", "日本語", "\U0001F600", `{"_placeholder":true,"num":0}`}
	for _, s := range strs {
		flatEquivalent(t, s, true, []any{s})
		flatEquivalent(t, "", false, []any{s, s})
	}
	flatEquivalent(t, "", false, nil)
	flatEquivalent(t, "", false, []any{})
	flatEquivalent(t, "ev", true, nil)
	flatEquivalent(t, "ev", true, []any{nil, true, false,
		0, -1, math.MaxInt64, math.MinInt64, int8(-8), int16(-16), int32(-32), int64(-64),
		uint(1), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64)})
	bin := []byte{1, 2, 3}
	flatEquivalent(t, "ev", true, []any{bin, []byte(nil), []byte{}, "x", bin})
	raws := []Raw{
		{JSON: jsontext.Value(`{"a":1,"b":[true,null,"x"]}`)},
		{JSON: jsontext.Value(`1.0`)}, {JSON: jsontext.Value(`1e0`)}, {JSON: jsontext.Value(`"\u0041\/"`)},
		{JSON: jsontext.Value(`{"a":1,"a":2}`)},
		{JSON: jsontext.Value(` [ 1 , 2 ] `)},
		{},
		{JSON: jsontext.Value(`{"_placeholder":true,"num":0}`), Attachments: [][]byte{bin}},
		{JSON: jsontext.Value(`[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`), Attachments: [][]byte{bin, {4}}},
		// Invalid: both refuse.
		{JSON: jsontext.Value(`{`)}, {JSON: jsontext.Value(`1 2`)}, {JSON: jsontext.Value("\"\xff\"")},
	}
	for _, r := range raws {
		flatEquivalent(t, "ev", true, []any{r})
		flatEquivalent(t, "", false, []any{bin, r, "after"})
	}
}

func TestMarshalFlatDeclinesOtherTypes(t *testing.T) {
	for _, v := range []any{1.5, float32(2), map[string]any{"a": 1}, []any{1}, struct{ A int }{1}, &Raw{}, jsontext.Value(`1`)} {
		_, _, ok := marshalFlat("ev", true, []any{"x", v})
		assert.False(t, ok, "%T", v)
		_, _, err := MarshalEvent("ev", []any{"x", v}) // written the slow way
		assert.NoError(t, err, "%T", v)
	}
}

func FuzzMarshalFlat(f *testing.F) {
	f.Add("ev", "s", int64(1), true, []byte{1}, `{"a":[1,"x"]}`)
	f.Add("", "\xff\u2028<", int64(-1), false, []byte(nil), `{"_placeholder":true,"num":0}`)
	f.Add("a", "", int64(math.MinInt64), true, []byte{}, `1e400`)
	f.Fuzz(func(t *testing.T, head, s string, n int64, b bool, bin []byte, raw string) {
		var atts [][]byte
		if bin != nil {
			atts = [][]byte{bin}
		}
		flatEquivalent(t, head, head != "", []any{s, n, b, nil, bin, Raw{JSON: jsontext.Value(raw), Attachments: atts}, uint64(n)})
	})
}
