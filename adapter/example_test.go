package adapter_test

import (
	"fmt"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

// Encode turns a packet into the Engine.IO messages every recipient
// shares: the text frame, then one binary message per attachment.
func ExampleEncode() {
	p := &parser.Packet{
		Type:        parser.BinaryEvent,
		Namespace:   "/chat",
		Data:        jsontext.Value(`["file",{"_placeholder":true,"num":0}]`),
		Attachments: [][]byte{{1, 2, 3}},
	}
	enc := adapter.Encode(p, false)
	for _, m := range enc.Messages {
		fmt.Printf("binary=%v %q\n", m.Binary(), m.Data())
	}
	// Output:
	// binary=false "51-/chat,[\"file\",{\"_placeholder\":true,\"num\":0}]"
	// binary=true "\x01\x02\x03"
}
