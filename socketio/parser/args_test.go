package parser_test

import (
	stdjson "encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/socketio/parser"
)

type message struct {
	Text    string   `json:"text"`
	Count   int      `json:"count,omitempty"`
	Tags    []string `json:"tags"`
	Skipped string   `json:"-"`
	private int
	Ptr     *int `json:"ptr,omitempty"`
}

type upload struct {
	Name  string `json:"name"`
	File  []byte `json:"file"`
	Thumb []byte `json:"thumb,omitempty"`
}

type nested struct {
	Level1 struct {
		Level2 struct {
			Level3 []byte `json:"level3"`
		} `json:"level2"`
	} `json:"level1"`
}

// blob is a named byte slice without methods: encoding/json's base64.
type blob []byte

func TestMarshalEvent(t *testing.T) {
	seven := 7
	var n3 nested
	n3.Level1.Level2.Level3 = []byte("deep")
	tests := []struct {
		name     string
		event    string
		args     []any
		want     string
		wantBins []string
	}{
		{name: "no args", event: "ping", want: `["ping"]`},
		{name: "ints", event: "e", args: []any{1, -2, int64(math.MaxInt64), uint8(255)}, want: `["e",1,-2,9223372036854775807,255]`},
		{name: "floats", event: "e", args: []any{1.5, -0.25, 1e21, float32(0.1)}, want: `["e",1.5,-0.25,1e+21,0.1]`},
		{name: "strings", event: "e", args: []any{"héllo €", "a\"b\\c", "\x00\n\t\x1f", "<&>", "\u2028"},
			want: "[\"e\",\"héllo €\",\"a\\\"b\\\\c\",\"\\u0000\\n\\t\\u001f\",\"<&>\",\"\u2028\"]"}, // as JSON.stringify writes them
		{name: "unicode event name", event: "é€", args: nil, want: `["é€"]`},
		{name: "numeric-looking name", event: "1", want: `["1"]`},
		{name: "bools and nil", event: "e", args: []any{true, false, nil}, want: `["e",true,false,null]`},
		{name: "nested", event: "e", args: []any{map[string]any{"b": []any{1, map[string]any{"c": nil}}, "a": "x"}},
			want: `["e",{"a":"x","b":[1,{"c":null}]}]`},
		{name: "struct tags omitempty", event: "e", args: []any{message{Text: "hi", Skipped: "x", private: 1}},
			want: `["e",{"text":"hi","tags":null}]`},
		{name: "struct pointer", event: "e", args: []any{&message{Text: "hi", Count: 2, Tags: []string{}, Ptr: &seven}},
			want: `["e",{"text":"hi","count":2,"tags":[],"ptr":7}]`},
		{name: "nil slices and maps", event: "e", args: []any{[]int(nil), map[string]int(nil), []byte(nil)}, want: `["e",null,null,null]`},
		{name: "bytes top level", event: "up", args: []any{[]byte{1, 2}}, want: `["up",` + ph0 + `]`, wantBins: []string{"\x01\x02"}},
		{name: "bytes empty", event: "up", args: []any{[]byte{}}, want: `["up",` + ph0 + `]`, wantBins: []string{""}},
		{name: "bytes struct field", event: "up", args: []any{upload{Name: "a", File: []byte("f")}},
			want: `["up",{"name":"a","file":` + ph0 + `}]`, wantBins: []string{"f"}},
		{name: "bytes struct fields", event: "up", args: []any{&upload{Name: "a", File: []byte("f"), Thumb: []byte("t")}},
			want: `["up",{"name":"a","file":` + ph0 + `,"thumb":{"_placeholder":true,"num":1}}]`, wantBins: []string{"f", "t"}},
		{name: "bytes in slice", event: "up", args: []any{[]any{"x", []byte("a")}}, want: `["up",["x",` + ph0 + `]]`, wantBins: []string{"a"}},
		{name: "bytes in typed slice", event: "up", args: []any{[][]byte{[]byte("a"), nil, []byte("b")}},
			want: `["up",[` + ph0 + `,null,{"_placeholder":true,"num":1}]]`, wantBins: []string{"a", "b"}},
		{name: "bytes in map", event: "up", args: []any{map[string]any{"k": []byte("a")}}, want: `["up",{"k":` + ph0 + `}]`, wantBins: []string{"a"}},
		{name: "bytes in typed map", event: "up", args: []any{map[string][]byte{"b": []byte("2"), "a": []byte("1")}},
			want: `["up",{"a":` + ph0 + `,"b":{"_placeholder":true,"num":1}}]`, wantBins: []string{"1", "2"}},
		{name: "bytes pointer", event: "up", args: []any{&[]byte{9}}, want: `["up",` + ph0 + `]`, wantBins: []string{"\x09"}},
		{name: "bytes 3 deep", event: "up", args: []any{n3}, want: `["up",{"level1":{"level2":{"level3":` + ph0 + `}}}]`, wantBins: []string{"deep"}},
		{name: "bytes 3 deep in any", event: "up", args: []any{map[string]any{"a": []any{map[string]any{"b": []byte("x")}}}},
			want: `["up",{"a":[{"b":` + ph0 + `}]}]`, wantBins: []string{"x"}},
		{name: "several in order", event: "up", args: []any{[]byte("0"), "s", map[string]any{"m": []byte("1")}, []any{[]byte("2")}, []byte("3")},
			want:     `["up",` + ph0 + `,"s",{"m":{"_placeholder":true,"num":1}},[{"_placeholder":true,"num":2}],{"_placeholder":true,"num":3}]`,
			wantBins: []string{"0", "1", "2", "3"}},
		{name: "same slice twice", event: "up", args: []any{[]byte("a"), []byte("a")},
			want: `["up",` + ph0 + `,{"_placeholder":true,"num":1}]`, wantBins: []string{"a", "a"}},
		{name: "RawMessage passes through", event: "e", args: []any{stdjson.RawMessage(`{"raw": [1, 2]}`)}, want: `["e",{"raw":[1,2]}]`},
		{name: "jsontext.Value passes through", event: "e", args: []any{jsontext.Value(`{"raw":true}`)}, want: `["e",{"raw":true}]`},
		{name: "named byte slice is base64", event: "e", args: []any{blob("hi")}, want: `["e","aGk="]`},
		{name: "byte array is an array", event: "e", args: []any{[2]byte{1, 2}}, want: `["e",[1,2]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, atts, err := parser.MarshalEvent(tt.event, tt.args)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(data))
			assert.Equal(t, tt.wantBins, view(&parser.Packet{Attachments: atts}).Attachments)

			// The payload is one the Decoder accepts.
			p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: data, Attachments: atts}
			text, bins := parser.Encode(p)
			var d parser.Decoder
			got, err := d.Add(text, false)
			require.NoError(t, err)
			for _, b := range bins {
				got, err = d.Add(b, true)
				require.NoError(t, err)
			}
			require.NotNil(t, got)
			name, err := parser.EventName(got.Data)
			require.NoError(t, err)
			assert.Equal(t, tt.event, name)
		})
	}
}

// The attachments alias the marshalled []byte values.
func TestMarshal_AttachmentsAlias(t *testing.T) {
	b := []byte("abc")
	_, atts, err := parser.Marshal(map[string]any{"b": b})
	require.NoError(t, err)
	require.Len(t, atts, 1)
	assert.Same(t, &b[0], &atts[0][0])
}

// TestMarshal_OverridesLegacyBytes: encoding/json (v1) semantics encode
// []byte as base64 (FormatBytesWithLegacySemantics); the placeholder
// marshaler must win over it, and leave other byte-slice types alone.
func TestMarshal_OverridesLegacyBytes(t *testing.T) {
	v := struct {
		B []byte
		N blob
		R stdjson.RawMessage
	}{B: []byte("hi"), N: blob("hi"), R: stdjson.RawMessage(`"raw"`)}

	legacy, err := jsonv1.Marshal(v)
	require.NoError(t, err)
	assert.Equal(t, `{"B":"aGk=","N":"aGk=","R":"raw"}`, string(legacy), "plain v1")

	data, atts, err := parser.Marshal(v)
	require.NoError(t, err)
	assert.Equal(t, `{"B":`+ph0+`,"N":"aGk=","R":"raw"}`, string(data))
	assert.Equal(t, []string{"hi"}, view(&parser.Packet{Attachments: atts}).Attachments)
}

func TestMarshalEvent_Reserved(t *testing.T) {
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		_, _, err := parser.MarshalEvent(name, []any{1})
		assert.ErrorIs(t, err, parser.ErrInvalidPacket, name)
	}
}

func TestMarshal_Errors(t *testing.T) {
	for name, v := range map[string]any{
		"NaN":       math.NaN(),
		"infinity":  math.Inf(1),
		"channel":   make(chan int),
		"function":  func() {},
		"in a map":  map[string]any{"f": math.NaN()},
		"map[bool]": map[bool]int{true: 1},
		"cycle":     cyclic(),
	} {
		_, _, err := parser.Marshal(v)
		assert.Error(t, err, name)
		assert.ErrorContains(t, err, "socketio/parser: marshal", name)
		_, _, err = parser.MarshalEvent("e", []any{"x", v})
		assert.Error(t, err, name)
		_, _, err = parser.MarshalArgs([]any{v})
		assert.Error(t, err, name)
	}
}

// cyclic returns a map that contains itself: an error, not a stack
// overflow.
func cyclic() map[string]any {
	m := map[string]any{}
	m["self"] = m
	return m
}

func TestMarshalArgs(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []any
		want string
	}{
		{name: "nil", args: nil, want: `[]`},
		{name: "empty", args: []any{}, want: `[]`},
		{name: "values", args: []any{"ok", 1, nil}, want: `["ok",1,null]`},
		{name: "bytes", args: []any{[]byte("a")}, want: `[` + ph0 + `]`},
	} {
		data, _, err := parser.MarshalArgs(tt.args)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, string(data), tt.name)
	}
}

func TestMarshal(t *testing.T) {
	data, atts, err := parser.Marshal(map[string]any{"token": "1", "avatar": []byte("png")})
	require.NoError(t, err)
	assert.Equal(t, `{"avatar":`+ph0+`,"token":"1"}`, string(data))
	assert.Len(t, atts, 1)

	data, atts, err = parser.Marshal("not authorized")
	require.NoError(t, err)
	assert.Equal(t, `"not authorized"`, string(data))
	assert.Nil(t, atts)

	data, _, err = parser.Marshal(nil)
	require.NoError(t, err)
	assert.Equal(t, `null`, string(data))
}

// TestMarshalEvent_UnmarshalRoundTrip: values survive MarshalEvent, the
// wire and Unmarshal into typed destinations.
func TestMarshalEvent_UnmarshalRoundTrip(t *testing.T) {
	type rich struct {
		I     int                `json:"i"`
		F     float64            `json:"f"`
		S     string             `json:"s"`
		M     map[string][]int   `json:"m"`
		B     []byte             `json:"b"`
		Opt   []byte             `json:"opt,omitempty"`
		Any   any                `json:"any"`
		Bs    [][]byte           `json:"bs"`
		Inner *upload            `json:"inner"`
		Raw   stdjson.RawMessage `json:"raw"`
		Nil   *int               `json:"nil"`
	}
	in := rich{
		I: -42, F: 3.25, S: "héllo\x00\n€😀", M: map[string][]int{"a": {1, 2}, "b": nil},
		B: []byte("b"), Any: []byte("any"), Bs: [][]byte{[]byte("x"), []byte("y")},
		Inner: &upload{Name: "n", File: []byte("file")}, Raw: stdjson.RawMessage(`{"k":[true]}`),
	}
	data, atts, err := parser.MarshalEvent("rich", []any{in, []byte("second"), 7, "str"})
	require.NoError(t, err)
	require.Len(t, atts, 6)

	elems, err := parser.Elements(data)
	require.NoError(t, err)
	require.Len(t, elems, 5)

	var out rich
	require.NoError(t, parser.Unmarshal(elems[1], atts, &out))
	assert.Equal(t, in, out)

	var second []byte
	require.NoError(t, parser.Unmarshal(elems[2], atts, &second))
	assert.Equal(t, "second", string(second))

	var n int
	require.NoError(t, parser.Unmarshal(elems[3], atts, &n))
	assert.Equal(t, 7, n)

	// The whole payload into []any: placeholders become []byte.
	var all []any
	require.NoError(t, parser.Unmarshal(data, atts, &all))
	require.Len(t, all, 5)
	assert.Equal(t, "rich", all[0])
	assert.Equal(t, []byte("second"), all[2])
	assert.Equal(t, 7.0, all[3])
	m := all[1].(map[string]any)
	assert.Equal(t, []byte("b"), m["b"])
	assert.Equal(t, []byte("any"), m["any"])
	assert.Equal(t, []any{[]byte("x"), []byte("y")}, m["bs"])
	assert.Equal(t, map[string]any{"name": "n", "file": []byte("file")}, m["inner"])
	assert.Equal(t, map[string]any{"k": []any{true}}, m["raw"])
	assert.Nil(t, m["nil"])
}

// TestMarshalUnmarshal_RoundTrip: each value, sent as an event argument,
// decodes back into a value of its own type equal to it.
func TestMarshalUnmarshal_RoundTrip(t *testing.T) {
	var n3 nested
	n3.Level1.Level2.Level3 = []byte("deep")
	seven := 7
	values := map[string]any{
		"int":                  -42,
		"int64 max":            int64(math.MaxInt64),
		"uint8":                uint8(255),
		"float64":              1.5,
		"float64 large":        1e300,
		"float64 small":        -5e-324,
		"float32":              float32(0.1),
		"bool":                 true,
		"string unicode":       "héllo € 😀 \u2028",
		"string control":       "\x00\x01\n\t\x1f\x7f\"\\",
		"string html":          "<a href='x'>&</a>",
		"string empty":         "",
		"nested map":           map[string][]int{"a": {1, 2}, "b": nil, "c": {}},
		"nested any":           []any{1.0, "x", nil, true, map[string]any{"y": []any{map[string]any{}}}},
		"struct":               message{Text: "hi", Count: 2, Tags: []string{"a"}, Ptr: &seven},
		"struct omitempty":     message{Text: "hi"},
		"struct pointer":       &upload{Name: "n", File: []byte("f"), Thumb: []byte("t")},
		"nil struct pointer":   (*upload)(nil),
		"bytes":                []byte("top"),
		"bytes empty":          []byte{},
		"bytes nil":            []byte(nil),
		"bytes in struct":      upload{Name: "u", File: []byte{0, 1, 255}},
		"bytes in any slice":   []any{"a", []byte("b"), []any{[]byte("c")}},
		"bytes in any map":     map[string]any{"k": []byte("v"), "n": nil},
		"bytes in typed map":   map[string][]byte{"a": []byte("1"), "b": []byte("2"), "c": nil},
		"bytes in typed slice": [][]byte{[]byte("1"), nil, []byte("3")},
		"bytes 3 deep":         n3,
		"raw message":          stdjson.RawMessage(`{"raw":[1,2,{"x":null}]}`),
		"nil map":              map[string]any(nil),
		"nil slice":            []string(nil),
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			data, atts, err := parser.MarshalEvent("e", []any{v, "after"})
			require.NoError(t, err)
			elems, err := parser.Elements(data)
			require.NoError(t, err)
			require.Len(t, elems, 3)

			got := reflect.New(reflect.TypeOf(v))
			require.NoError(t, parser.Unmarshal(elems[1], atts, got.Interface()))
			assert.Equal(t, v, got.Elem().Interface(), "%s", elems[1])

			var after string
			require.NoError(t, parser.Unmarshal(elems[2], atts, &after))
			assert.Equal(t, "after", after)
		})
	}
}

func TestUnmarshal(t *testing.T) {
	atts := [][]byte{[]byte("zero"), []byte("one")}
	ph1 := `{"_placeholder":true,"num":1}`

	t.Run("bytes from placeholder", func(t *testing.T) {
		var b []byte
		require.NoError(t, parser.Unmarshal([]byte(ph1), atts, &b))
		assert.Equal(t, "one", string(b))
		assert.Same(t, &atts[1][0], &b[0], "not copied")
	})
	t.Run("bytes from base64", func(t *testing.T) {
		var b []byte
		require.NoError(t, parser.Unmarshal([]byte(`"aGk="`), atts, &b))
		assert.Equal(t, "hi", string(b))
	})
	t.Run("bytes from null", func(t *testing.T) {
		b := []byte("x")
		require.NoError(t, parser.Unmarshal([]byte(`null`), atts, &b))
		assert.Nil(t, b)
	})
	t.Run("bytes pointer", func(t *testing.T) {
		var b *[]byte
		require.NoError(t, parser.Unmarshal([]byte(ph0), atts, &b))
		require.NotNil(t, b)
		assert.Equal(t, "zero", string(*b))
	})
	t.Run("placeholder extra members", func(t *testing.T) {
		var b []byte
		require.NoError(t, parser.Unmarshal([]byte(`{"x":[{}],"num":1,"_placeholder":true}`), atts, &b))
		assert.Equal(t, "one", string(b))
	})
	t.Run("any", func(t *testing.T) {
		var v any
		require.NoError(t, parser.Unmarshal([]byte(ph1), atts, &v))
		assert.Equal(t, []byte("one"), v)
	})
	t.Run("any nested", func(t *testing.T) {
		var v any
		raw := `{"a":[1,` + ph0 + `,{"b":{"c":` + ph1 + `}}],"d":{"_placeholder":false}}`
		require.NoError(t, parser.Unmarshal([]byte(raw), atts, &v))
		assert.Equal(t, map[string]any{
			"a": []any{1.0, []byte("zero"), map[string]any{"b": map[string]any{"c": []byte("one")}}},
			"d": map[string]any{"_placeholder": false},
		}, v)
	})
	t.Run("map and slice of any", func(t *testing.T) {
		var m map[string]any
		require.NoError(t, parser.Unmarshal([]byte(`{"f":`+ph1+`}`), atts, &m))
		assert.Equal(t, map[string]any{"f": []byte("one")}, m)
		var s []any
		require.NoError(t, parser.Unmarshal([]byte(`[`+ph0+`,"x"]`), atts, &s))
		assert.Equal(t, []any{[]byte("zero"), "x"}, s)
	})
	t.Run("struct", func(t *testing.T) {
		var u upload
		raw := `{"NAME":"x","file":` + ph1 + `,"unknown":{"deep":[1]},"thumb":"aGk="}`
		require.NoError(t, parser.Unmarshal([]byte(raw), atts, &u))
		assert.Equal(t, upload{Name: "x", File: []byte("one"), Thumb: []byte("hi")}, u)
	})
	t.Run("struct from placeholder", func(t *testing.T) {
		var u upload
		require.NoError(t, parser.Unmarshal([]byte(ph0), atts, &u), "a placeholder is just an object for a struct")
		assert.Equal(t, upload{}, u)
	})
	t.Run("any holding a pointer", func(t *testing.T) {
		u := &upload{}
		var v any = u
		require.NoError(t, parser.Unmarshal([]byte(`{"name":"p","file":`+ph0+`}`), atts, &v))
		assert.Same(t, u, v)
		assert.Equal(t, upload{Name: "p", File: []byte("zero")}, *u)
	})
	t.Run("any holding a map is replaced", func(t *testing.T) {
		var v any = map[string]any{"old": 1.0}
		require.NoError(t, parser.Unmarshal([]byte(`{"new":`+ph0+`}`), atts, &v))
		assert.Equal(t, map[string]any{"new": []byte("zero")}, v)
	})
	t.Run("escaped names", func(t *testing.T) {
		var v any
		require.NoError(t, parser.Unmarshal([]byte(`{"\u005fplaceholder":true,"n\u0075m":1}`), atts, &v))
		assert.Equal(t, []byte("one"), v)
	})
	t.Run("duplicate names last wins", func(t *testing.T) {
		var v any
		require.NoError(t, parser.Unmarshal([]byte(`{"_placeholder":true,"num":5,"num":1}`), atts, &v))
		assert.Equal(t, []byte("one"), v)
		var b []byte
		require.NoError(t, parser.Unmarshal([]byte(`{"_placeholder":true,"num":5,"num":1}`), atts, &b))
		assert.Equal(t, "one", string(b))
	})
	t.Run("numbers", func(t *testing.T) {
		var v struct {
			I int64
			F float32
			U uint8
		}
		require.NoError(t, parser.Unmarshal([]byte(`{"i":9007199254740993,"f":1.5,"u":255}`), atts, &v))
		assert.Equal(t, int64(9007199254740993), v.I)
		assert.Equal(t, float32(1.5), v.F)
		assert.Equal(t, uint8(255), v.U)
	})
}

func TestUnmarshal_Errors(t *testing.T) {
	atts := [][]byte{[]byte("zero")}
	illegal := []string{
		`{"_placeholder":true,"num":1}`,
		`{"_placeholder":true,"num":-1}`,
		`{"_placeholder":true,"num":0.5}`,
		`{"_placeholder":true,"num":"0"}`,
		`{"_placeholder":true}`,
		`{"_placeholder":true,"num":null}`,
		`{"_placeholder":true,"num":0,"num":1}`,
	}
	for _, raw := range illegal {
		var b []byte
		err := parser.Unmarshal([]byte(raw), atts, &b)
		assert.ErrorIs(t, err, parser.ErrIllegalAttachments, "[]byte %s", raw)
		var v any
		err = parser.Unmarshal([]byte(`[`+raw+`]`), atts, &v)
		assert.ErrorIs(t, err, parser.ErrIllegalAttachments, "any %s", raw)
	}

	// Out of range without attachments at all.
	var v any
	assert.ErrorIs(t, parser.Unmarshal([]byte(ph0), nil, &v), parser.ErrIllegalAttachments)

	// Not a placeholder, into []byte.
	var b []byte
	assert.ErrorIs(t, parser.Unmarshal([]byte(`{"a":1}`), atts, &b), parser.ErrIllegalAttachments)

	// Destinations that cannot be written to: errors, never panics.
	var nilPtr *upload
	for name, dst := range map[string]any{
		"nil":         nil,
		"non-pointer": upload{},
		"typed nil":   nilPtr,
		"string":      "x",
	} {
		err := parser.Unmarshal([]byte(`{}`), atts, dst)
		assert.ErrorContains(t, err, "socketio/parser: unmarshal", name)
	}

	// JSON errors are the application's concern: wrapped, not a protocol
	// sentinel.
	for name, raw := range map[string]string{
		"syntax":     `{"a":`,
		"type":       `{"name":1}`,
		"empty":      ``,
		"trailing":   `{} {}`,
		"bad base64": `{"file":"!!"}`,
	} {
		var u upload
		err := parser.Unmarshal([]byte(raw), atts, &u)
		assert.ErrorContains(t, err, "socketio/parser: unmarshal", name)
		assert.NotErrorIs(t, err, parser.ErrInvalidPacket, name)
	}
}

func TestElements(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: `[]`, want: nil},
		{in: ` [ ] `, want: nil},
		{in: `["a"]`, want: []string{`"a"`}},
		{in: `["a", 1 ,{"b" : [2]}, null,true,` + ph0 + `]`, want: []string{`"a"`, `1`, `{"b" : [2]}`, `null`, `true`, ph0}},
		{in: "\n[[[]],{}]\t", want: []string{`[[]]`, `{}`}},
		{in: `{}`, wantErr: true},
		{in: `"a"`, wantErr: true},
		{in: ``, wantErr: true},
		{in: `[`, wantErr: true},
		{in: `["a",]`, wantErr: true},
		{in: `[1] [2]`, wantErr: true},
		{in: `[1]x`, wantErr: true},
		{in: "[\"\xff\"]", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parser.Elements([]byte(tt.in))
		if tt.wantErr {
			assert.ErrorIs(t, err, parser.ErrInvalidPacket, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		var s []string
		for _, e := range got {
			s = append(s, string(e))
			assert.Equal(t, len(e), cap(e), "no spare capacity")
		}
		assert.Equal(t, tt.want, s, tt.in)
	}

	// No copy: the elements alias the array.
	in := []byte(`["abc",{"d":1}]`)
	got, err := parser.Elements(in)
	require.NoError(t, err)
	assert.Same(t, &in[1], &got[0][0])
	assert.Same(t, &in[7], &got[1][0])
}

func TestEventName(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: `["chat"]`, want: "chat"},
		{in: ` [ "chat" , 1 ]`, want: "chat"},
		{in: `["a\"b\u00e9"]`, want: "a\"bé"},
		{in: `[""]`, want: ""},
		{in: `[1]`, want: "1"},
		{in: `[-1.5e3,"x"]`, want: "-1.5e3"},
		{in: `["\ud800"]`, want: "\ufffd"},
		{in: `[]`, wantErr: true},
		{in: `[null]`, wantErr: true},
		{in: `[{}]`, wantErr: true},
		{in: `[["a"]]`, wantErr: true},
		{in: `[true]`, wantErr: true},
		{in: `["connect"]`, wantErr: true},
		{in: `["\u0064isconnect"]`, wantErr: true},
		{in: `{"a":1}`, wantErr: true},
		{in: `"a"`, wantErr: true},
		{in: ``, wantErr: true},
		{in: `[`, wantErr: true},
		{in: `[x]`, wantErr: true},
		{in: "[\"\xff\"]", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parser.EventName([]byte(tt.in))
		if tt.wantErr {
			assert.ErrorIs(t, err, parser.ErrInvalidPacket, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}
