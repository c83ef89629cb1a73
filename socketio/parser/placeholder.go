package parser

import (
	"bytes"
	"math"
	"strconv"
	"sync"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// A placeholder stands for a binary attachment inside the JSON payload:
//
//	{"_placeholder":true,"num":0}
//
// Like Node's reconstructPacket, an object is a placeholder when its
// "_placeholder" member is the literal true (the last one wins if the name
// is repeated, as with JSON.parse); other members are ignored. Its "num"
// must then be an integral number within [0, count) — Node only checks
// typeof "number" and the range, and then yields undefined for 1.5
// (CVE-2022-2421 is the range check).

// jsonDecoder is a pooled decoder reading data in place (a
// [bytes.Buffer] is read without copying) with the options used on
// received payloads: duplicate names are accepted, as JSON.parse does,
// and so are escaped lone surrogates ("\ud800", which JSON.stringify
// produces for a lone surrogate). Callers reject raw invalid UTF-8
// before parsing. jsontext parses without recursion and rejects nesting
// deeper than 10 000 levels.
//
// A decoder is some 800 bytes, and every received event is read by three
// of them (validation, event name, arguments): getJSONDecoder takes one
// from a pool, putJSONDecoder gives it back without the data.
type jsonDecoder struct {
	jsontext.Decoder
	buf bytes.Buffer
}

var (
	jsonDecoders   = sync.Pool{New: func() any { return new(jsonDecoder) }}
	receiveOptions = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
)

func getJSONDecoder(data []byte) *jsonDecoder {
	d := jsonDecoders.Get().(*jsonDecoder)
	d.buf = *bytes.NewBuffer(data)
	d.Reset(&d.buf, receiveOptions)
	return d
}

func putJSONDecoder(d *jsonDecoder) {
	d.buf = bytes.Buffer{}
	d.Reset(&d.buf)
	jsonDecoders.Put(d)
}

// placeholderIndex returns the attachment index a placeholder's "num"
// member designates, given its raw JSON number, and whether it is valid
// for count attachments. Values that JavaScript reads as integers are
// accepted ("1", "1.0", "1e0", "-0"), like the Node.js parser does.
func placeholderIndex(raw []byte, count int) (int, bool) {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f >= float64(count) {
		return 0, false
	}
	return int(f), true
}

// floatIndex is placeholderIndex for a number already decoded.
func floatIndex(f float64, count int) (int, bool) {
	if f != math.Trunc(f) || f < 0 || f >= float64(count) {
		return 0, false
	}
	return int(f), true
}

// maxEscapedLen bounds the quoted JSON form of a string of n ASCII bytes:
// every byte escaped as \uXXXX, plus the quotes.
func maxEscapedLen(n int) int { return 6*n + 2 }

// quotedEquals reports whether the quoted JSON string raw denotes s, an
// ASCII string. Only names with escapes are unquoted (a rare path).
func quotedEquals(raw []byte, s string) bool {
	if len(raw) == len(s)+2 && string(raw[1:len(raw)-1]) == s {
		return true
	}
	if len(raw) > maxEscapedLen(len(s)) || !hasBackslash(raw) {
		return false
	}
	u, err := jsontext.AppendUnquote(nil, raw)
	return err == nil && string(u) == s
}

// isReservedQuoted reports whether the quoted JSON string raw denotes a
// reserved event name.
func isReservedQuoted(raw []byte) bool {
	if len(raw) < 2 || len(raw) > maxEscapedLen(maxReservedLen) {
		return false
	}
	if !hasBackslash(raw) {
		return IsReserved(string(raw[1 : len(raw)-1]))
	}
	u, err := jsontext.AppendUnquote(nil, raw)
	return err == nil && IsReserved(string(u))
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// AppendPlaceholder appends the placeholder of attachment num,
// {"_placeholder":true,"num":N}, as Marshal writes it.
func AppendPlaceholder(dst []byte, num int) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(num), 10)
	return append(dst, '}')
}
