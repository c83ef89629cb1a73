package parser_test

import (
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/socketio/parser"
)

// A Raw value is written byte for byte; its placeholders are renumbered
// after the attachments that come before it.
func TestRaw(t *testing.T) {
	a, b, c := []byte{1}, []byte{2}, []byte{3}
	received := [][]byte{a, b} // the packet's attachments
	for _, tc := range []struct {
		name string
		v    any
		want string
		atts [][]byte
	}{
		{"no placeholder, bytes kept", []any{parser.Raw{JSON: jsontext.Value(`{"b":1.0,"a":"\u00e9"}`), Attachments: received}},
			`[{"b":1.0,"a":"\u00e9"}]`, nil},
		{"placeholder renumbered after a []byte", []any{c, parser.Raw{JSON: jsontext.Value(`{"_placeholder":true,"num":1}`), Attachments: received}},
			`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, [][]byte{c, b}},
		{"nested, order of appearance", []any{parser.Raw{JSON: jsontext.Value(`{"z":[{"_placeholder":true,"num":1}],"y":{"_placeholder":true,"num":0},"x":"_placeholder"}`), Attachments: received}},
			`[{"z":[{"_placeholder":true,"num":0}],"y":{"_placeholder":true,"num":1},"x":"_placeholder"}]`, [][]byte{b, a}},
		{"a look-alike with a bad num stays an object", []any{parser.Raw{JSON: jsontext.Value(`{"_placeholder":true,"num":7}`), Attachments: received}},
			`[{"_placeholder":true,"num":7}]`, nil},
		{"empty Raw is null", []any{parser.Raw{}}, `[null]`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, atts, err := parser.Marshal(tc.v)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(data))
			assert.Equal(t, tc.atts, atts)
		})
	}
}

// Taking a Raw value apart costs its size times its depth: too deep a
// value with placeholders is refused rather than scanned quadratically.
func TestRaw_TooDeep(t *testing.T) {
	deep := strings.Repeat("[", 100) + `{"_placeholder":true,"num":0}` + strings.Repeat("]", 100)
	_, _, err := parser.Marshal(parser.Raw{JSON: jsontext.Value(deep), Attachments: [][]byte{{1}}})
	assert.ErrorContains(t, err, "nested too deep")
	shallow := strings.Repeat("[", 60) + `{"_placeholder":true,"num":0}` + strings.Repeat("]", 60)
	data, atts, err := parser.Marshal(parser.Raw{JSON: jsontext.Value(shallow), Attachments: [][]byte{{1}}})
	require.NoError(t, err)
	assert.Equal(t, shallow, string(data))
	assert.Len(t, atts, 1)
}
