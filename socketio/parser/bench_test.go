package parser_test

import (
	"bytes"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/socketio/parser"
)

func BenchmarkDecoder(b *testing.B) {
	bench := func(name string, text []byte, bins ...[]byte) {
		b.Run(name, func(b *testing.B) {
			n := len(text)
			for _, bin := range bins {
				n += len(bin)
			}
			b.ReportAllocs()
			b.SetBytes(int64(n))
			var d parser.Decoder
			for b.Loop() {
				p, err := d.Add(text, false)
				for _, bin := range bins {
					p, err = d.Add(bin, true)
				}
				if err != nil || p == nil {
					b.Fatal(p, err)
				}
			}
		})
	}
	bench("event", []byte(`2["chat","hello",42]`))
	bench("event_namespace_ack", []byte(`2/chat,12["message",{"text":"hello","n":[1,2,3]}]`))
	bench("binary_event_1KB", []byte(`51-["upload",{"name":"a.png","file":{"_placeholder":true,"num":0}}]`),
		bytes.Repeat([]byte{0xa5}, 1024))
	// RELIABILITY.md row 28: decode time per MB.
	bench("event_1MB_objects", []byte(`2["a"`+bytes.NewBuffer(bytes.Repeat([]byte(`,{"k":[1,"v"]}`), 1<<20/14)).String()+`]`))
}

func BenchmarkAppendText(b *testing.B) {
	p := &parser.Packet{Type: parser.Event, Namespace: "/chat", ID: 12, HasID: true,
		Data: []byte(`["message",{"text":"hello","n":[1,2,3]}]`)}
	b.ReportAllocs()
	b.SetBytes(int64(len(parser.AppendText(nil, p))))
	var dst []byte
	for b.Loop() {
		dst = parser.AppendText(dst[:0], p)
	}
}

func BenchmarkMarshalEvent(b *testing.B) {
	b.Run("args", func(b *testing.B) {
		args := []any{"hello", 42, map[string]any{"room": "lobby", "n": 3}}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := parser.MarshalEvent("chat", args); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("flat", func(b *testing.B) {
		// Strings, numbers and received values: no reflection.
		args := []any{"hello", 42, parser.Raw{JSON: jsontext.Value(`{"room":"lobby","n":3}`)}}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := parser.MarshalEvent("chat", args); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("struct_with_bytes", func(b *testing.B) {
		args := []any{upload{Name: "a.png", File: bytes.Repeat([]byte{0xa5}, 1024)}}
		b.ReportAllocs()
		for b.Loop() {
			if _, atts, err := parser.MarshalEvent("upload", args); err != nil || len(atts) != 1 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	b.Run("struct", func(b *testing.B) {
		raw := []byte(`{"text":"hello","count":3,"tags":["a","b"]}`)
		b.ReportAllocs()
		for b.Loop() {
			var m message
			if err := parser.Unmarshal(raw, nil, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("struct_with_bytes", func(b *testing.B) {
		raw := []byte(`{"name":"a.png","file":{"_placeholder":true,"num":0}}`)
		atts := [][]byte{bytes.Repeat([]byte{0xa5}, 1024)}
		b.ReportAllocs()
		for b.Loop() {
			var u upload
			if err := parser.Unmarshal(raw, atts, &u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("any", func(b *testing.B) {
		raw := []byte(`{"text":"hello","count":3,"tags":["a","b"]}`)
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := parser.Unmarshal(raw, nil, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
