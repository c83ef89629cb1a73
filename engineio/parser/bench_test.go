package parser_test

import (
	"bytes"
	"testing"

	"github.com/gosio/gosio/engineio/parser"
)

var (
	// benchText is a 32-byte text message packet: '4' and 31 bytes of data.
	benchText = parser.Packet{Type: parser.Message, Data: bytes.Repeat([]byte("a"), 31)}
	// benchBinary is a 1 KB binary message.
	benchBinary = parser.Packet{Type: parser.Message, Data: bytes.Repeat([]byte{0xa5}, 1024), Binary: true}
	// benchTexts is ten 32-byte text message packets.
	benchTexts = []parser.Packet{
		benchText, benchText, benchText, benchText, benchText,
		benchText, benchText, benchText, benchText, benchText,
	}
)

func BenchmarkDecodePacket(b *testing.B) {
	bench := func(name string, data []byte, binary bool) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := parser.DecodePacket(data, binary); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	bench("text32B", parser.AppendPacket(nil, benchText), false)
	bench("binary1KB", parser.AppendPacket(nil, benchBinary), true)
	bench("base64_1KB", parser.AppendPayloadPacket(nil, benchBinary), false)
}

func BenchmarkAppendPacket(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    parser.Packet
	}{
		{"text32B", benchText},
		{"binary1KB", benchBinary},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(parser.AppendPacket(nil, bc.p))))
			var dst []byte
			for b.Loop() {
				dst = parser.AppendPacket(dst[:0], bc.p)
			}
		})
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	for _, bc := range []struct {
		name    string
		packets []parser.Packet
	}{
		{"10x32B", benchTexts},
		{"binary1KB", []parser.Packet{benchBinary}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data := parser.AppendPayload(nil, bc.packets)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := parser.DecodePayload(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	for _, bc := range []struct {
		name    string
		packets []parser.Packet
	}{
		{"10x32B", benchTexts},
		{"binary1KB", []parser.Packet{benchBinary}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(parser.PayloadLen(bc.packets)))
			var dst []byte
			for b.Loop() {
				dst = parser.AppendPayload(dst[:0], bc.packets)
			}
		})
	}
}
