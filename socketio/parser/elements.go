package parser

import (
	"io"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Elements splits a JSON array, such as the payload of an EVENT or ACK
// packet, into its elements, exactly as written (placeholders
// included). The elements alias array, with no spare capacity; nothing is
// copied. Each can then be decoded by [Unmarshal] with the packet's
// attachments.
//
// array must be exactly one JSON array (surrounding whitespace allowed),
// in valid UTF-8; otherwise the error wraps [ErrInvalidPacket].
func Elements(array jsontext.Value) ([]jsontext.Value, error) {
	if !utf8.Valid(array) {
		return nil, invalidf("invalid payload: invalid UTF-8")
	}
	dec := getJSONDecoder(array)
	defer putJSONDecoder(dec)
	if err := readArrayStart(&dec.Decoder); err != nil {
		return nil, err
	}
	var elems []jsontext.Value
	for dec.PeekKind() != ']' {
		v, err := dec.ReadValue()
		if err != nil {
			return nil, syntaxError(err)
		}
		// Slice the input rather than keep v, which jsontext documents as
		// valid only until the next read.
		end := int(dec.InputOffset())
		elems = append(elems, array[end-len(v):end:end])
	}
	if _, err := dec.ReadToken(); err != nil { // ']'
		return nil, syntaxError(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, invalidf("invalid payload: data after the JSON array")
	}
	return elems, nil
}

// EventName returns the event name of an EVENT payload: its first
// element, a string, or the JSON text of a number ("1"), which Node
// accepts as a name. Other first elements, an empty array and reserved
// names (see [IsReserved]) are errors wrapping [ErrInvalidPacket].
//
// EventName reads data only up to the first element; the [Decoder] has
// validated all of it already.
func EventName(data jsontext.Value) (string, error) {
	dec := getJSONDecoder(data)
	defer putJSONDecoder(dec)
	if err := readArrayStart(&dec.Decoder); err != nil {
		return "", err
	}
	if dec.PeekKind() == ']' {
		return "", invalidf("invalid payload: empty event array")
	}
	v, err := dec.ReadValue()
	if err != nil {
		return "", syntaxError(err)
	}
	if !utf8.Valid(v) {
		return "", invalidf("invalid payload: invalid UTF-8")
	}
	switch v.Kind() {
	case '0':
		return string(v), nil
	case '"':
		// v is a valid string: the only possible error is an escaped
		// lone surrogate, which becomes U+FFFD as with encoding/json.
		u, _ := jsontext.AppendUnquote(nil, v)
		if IsReserved(string(u)) {
			return "", invalidf("invalid payload: %q is a reserved event name", u)
		}
		return string(u), nil
	}
	return "", invalidf("invalid payload: event name cannot be %s", kindName(v.Kind()))
}

func readArrayStart(dec *jsontext.Decoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return syntaxError(err)
	}
	if tok.Kind() != '[' {
		return invalidf("invalid payload: not a JSON array but %s", kindName(tok.Kind()))
	}
	return nil
}
