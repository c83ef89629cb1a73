package parser

import (
	"bytes"
	"sync"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// The arguments of most events and acks are strings, integers, booleans,
// nulls, byte slices and received values (Raw). An array of only those is
// written token by token on a jsontext.Encoder with marshal's options:
// the same bytes as json.Marshal, without its reflection. Besides its own
// cost, json.Marshal's call depth grows the stack of every goroutine
// that emits (a dispatcher starts small for each burst of events).

// flatOptions are marshal's options for a jsontext.Encoder.
var flatOptions = json.JoinOptions(jsonv1.DefaultOptionsV1(),
	jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false))

// flatEncoder is a pooled encoder with the buffer it writes to.
type flatEncoder struct {
	enc jsontext.Encoder
	buf bytes.Buffer
}

var flatEncoders = sync.Pool{New: func() any { return new(flatEncoder) }}

// isFlat reports whether marshalFlat can write v.
func isFlat(v any) bool {
	switch v.(type) {
	case nil, string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, []byte, Raw:
		return true
	}
	return false
}

// marshalFlat returns the JSON array [head, args...] (without head when
// hasHead is false) and its attachments, as marshal would, and true; or
// false when an argument is of another type or cannot be written (an
// invalid Raw): marshal then does the work, and reports the error.
func marshalFlat(head string, hasHead bool, args []any) (jsontext.Value, [][]byte, bool) {
	size := 2 + len(head) + 2
	for _, a := range args {
		switch v := a.(type) {
		case string:
			size += len(v) + 3
		case Raw:
			size += len(v.JSON) + 1
		case []byte:
			size += len(`{"_placeholder":true,"num":0},`)
		default:
			if !isFlat(a) {
				return nil, nil, false
			}
			size += 8
		}
	}
	fe := flatEncoders.Get().(*flatEncoder)
	defer func() {
		fe.buf = bytes.Buffer{}
		fe.enc.Reset(&fe.buf) // drop the payload
		flatEncoders.Put(fe)
	}()
	fe.buf = *bytes.NewBuffer(make([]byte, 0, size+1))
	enc := &fe.enc
	enc.Reset(&fe.buf, flatOptions)
	var s marshalState
	err := enc.WriteToken(jsontext.BeginArray)
	if err == nil && hasHead {
		err = enc.WriteToken(jsontext.String(head))
	}
	for _, a := range args {
		if err != nil {
			break
		}
		switch v := a.(type) {
		case nil:
			err = enc.WriteToken(jsontext.Null)
		case string:
			err = enc.WriteToken(jsontext.String(v))
		case bool:
			err = enc.WriteToken(jsontext.Bool(v))
		case int:
			err = enc.WriteToken(jsontext.Int(int64(v)))
		case int8:
			err = enc.WriteToken(jsontext.Int(int64(v)))
		case int16:
			err = enc.WriteToken(jsontext.Int(int64(v)))
		case int32:
			err = enc.WriteToken(jsontext.Int(int64(v)))
		case int64:
			err = enc.WriteToken(jsontext.Int(v))
		case uint:
			err = enc.WriteToken(jsontext.Uint(uint64(v)))
		case uint8:
			err = enc.WriteToken(jsontext.Uint(uint64(v)))
		case uint16:
			err = enc.WriteToken(jsontext.Uint(uint64(v)))
		case uint32:
			err = enc.WriteToken(jsontext.Uint(uint64(v)))
		case uint64:
			err = enc.WriteToken(jsontext.Uint(v))
		case []byte:
			err = s.marshalBytes(enc, v)
		case Raw:
			err = s.marshalRaw(enc, v)
		}
	}
	if err == nil {
		err = enc.WriteToken(jsontext.EndArray)
	}
	if err != nil {
		return nil, nil, false
	}
	return bytes.TrimSuffix(fe.buf.Bytes(), []byte{'\n'}), s.attachments, true
}
