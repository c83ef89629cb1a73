package parser_test

import (
	"errors"
	"fmt"

	"github.com/gosio/gosio/engineio/parser"
)

func ExampleDecodePayload() {
	packets, err := parser.DecodePayload([]byte("4hello\x1ebAQIDBA==\x1e2probe"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range packets {
		fmt.Printf("%s binary=%t %q\n", p.Type, p.Binary, p.Data)
	}

	// An invalid packet ends the payload; the packets before it are
	// returned so that the server can act on them before closing the
	// session with "parse error".
	packets, err = parser.DecodePayload([]byte("4ok\x1e9bad\x1e4lost"))
	fmt.Println(len(packets), errors.Is(err, parser.ErrInvalidPayload))
	// Output:
	// message binary=false "hello"
	// message binary=true "\x01\x02\x03\x04"
	// ping binary=false "probe"
	// 1 true
}

func ExampleAppendPayload() {
	packets := []parser.Packet{
		{Type: parser.Message, Data: []byte("hello")},
		{Type: parser.Message, Data: []byte{1, 2, 3, 4}, Binary: true},
		{Type: parser.Noop},
	}
	buf := make([]byte, 0, parser.PayloadLen(packets))
	buf = parser.AppendPayload(buf, packets)
	fmt.Printf("%q (%d bytes)\n", buf, len(buf))
	// Output:
	// "4hello\x1ebAQIDBA==\x1e6" (18 bytes)
}

func ExampleDecodePacket() {
	// A WebSocket text frame holds a type character and text data.
	p, err := parser.DecodePacket([]byte("2probe"), false)
	fmt.Println(p.Type, string(p.Data), err)

	// A WebSocket binary frame is a binary message.
	p, err = parser.DecodePacket([]byte{1, 2, 3}, true)
	fmt.Println(p.Type, p.Binary, p.Data, err)

	// An unknown type character is a parse error.
	_, err = parser.DecodePacket([]byte("9"), false)
	fmt.Println(errors.Is(err, parser.ErrInvalidPacket))
	// Output:
	// ping probe <nil>
	// message true [1 2 3] <nil>
	// true
}
