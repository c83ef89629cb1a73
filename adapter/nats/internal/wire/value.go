package wire

import (
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// decodeValue decodes one free-form value from input that validate has
// accepted: nil, bool, int64 (uint64 above MaxInt64), float64, string,
// []byte for bin (the library's loose decoding would turn bin into a
// string), time.Time, []any and [Object] (maps in order, without
// repeated keys).
func decodeValue(d *msgpack.Decoder) (any, error) {
	c, err := d.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case c == msgpcode.Nil:
		return nil, d.DecodeNil()
	case c == msgpcode.True || c == msgpcode.False:
		return d.DecodeBool()
	case msgpcode.IsFixedNum(c) || c == msgpcode.Int8 || c == msgpcode.Int16 || c == msgpcode.Int32 || c == msgpcode.Int64 ||
		c == msgpcode.Uint8 || c == msgpcode.Uint16 || c == msgpcode.Uint32:
		return d.DecodeInt64()
	case c == msgpcode.Uint64:
		n, err := d.DecodeUint64()
		if err != nil || n > 1<<63-1 {
			return n, err
		}
		return int64(n), nil
	case c == msgpcode.Float || c == msgpcode.Double:
		return d.DecodeFloat64()
	case msgpcode.IsString(c):
		return d.DecodeString()
	case msgpcode.IsBin(c):
		return d.DecodeBytes()
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := d.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		a := make([]any, n) // n is bounded by the input (validate)
		for i := range a {
			if a[i], err = decodeValue(d); err != nil {
				return nil, err
			}
		}
		return a, nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := d.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		o := make(Object, n) // n is bounded by the input (validate)
		for i := range o {
			if o[i].Key, err = d.DecodeString(); err != nil { // a non-string key is an error
				return nil, err
			}
			if o[i].Value, err = decodeValue(d); err != nil {
				return nil, err
			}
		}
		return dedupe(o), nil
	default: // timestamp, the only extension validate accepts
		return d.DecodeTime()
	}
}
