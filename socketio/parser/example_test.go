package parser_test

import (
	"errors"
	"fmt"

	"github.com/gosio/gosio/socketio/parser"
)

func ExampleDecoder() {
	// The messages of one connection, as Engine.IO delivers them: a
	// binary event (its text frame, then one attachment), a plain event
	// with an ack id, and a frame that breaks the protocol.
	messages := []struct {
		data   string
		binary bool
	}{
		{`51-/chat,["upload","a.png",{"_placeholder":true,"num":0}]`, false},
		{"\x89PNG", true},
		{`2/chat,7["hello","world"]`, false},
		{`2["disconnect"]`, false},
	}

	var d parser.Decoder
	for _, m := range messages {
		p, err := d.Add([]byte(m.data), m.binary)
		switch {
		case err != nil:
			// The server closes the connection ("parse error").
			fmt.Println("error:", errors.Is(err, parser.ErrInvalidPacket))
		case p == nil:
			fmt.Println("waiting for attachments")
		default:
			name, _ := parser.EventName(p.Data)
			fmt.Printf("%s %s %q id=%d/%t attachments=%q\n", p.Type, p.Namespace, name, p.ID, p.HasID, p.Attachments)
		}
	}
	// Output:
	// waiting for attachments
	// BINARY_EVENT /chat "upload" id=0/false attachments=["\x89PNG"]
	// EVENT /chat "hello" id=7/true attachments=[]
	// error: true
}

func ExampleMarshalEvent() {
	type photo struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	data, attachments, err := parser.MarshalEvent("upload", []any{
		photo{Name: "a.png", Data: []byte{1, 2, 3}},
		"caption",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Encode picks BINARY_EVENT because there are attachments.
	text, bins := parser.Encode(&parser.Packet{Type: parser.Event, Namespace: "/chat", Data: data, Attachments: attachments})
	fmt.Printf("%s\n%v\n", text, bins)
	// Output:
	// 51-/chat,["upload",{"name":"a.png","data":{"_placeholder":true,"num":0}},"caption"]
	// [[1 2 3]]
}

func ExampleUnmarshal() {
	// A decoded BINARY_EVENT: payload and attachments.
	data := []byte(`["upload",{"name":"a.png","data":{"_placeholder":true,"num":0}},"caption"]`)
	attachments := [][]byte{{1, 2, 3}}

	args, err := parser.Elements(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	var (
		name  string
		photo struct {
			Name string
			Data []byte
		}
		caption any
	)
	for i, dst := range []any{&name, &photo, &caption} {
		if err := parser.Unmarshal(args[i], attachments, dst); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(name, photo.Name, photo.Data, caption)

	// Into an any, a placeholder becomes the attachment.
	var all []any
	_ = parser.Unmarshal(data, attachments, &all)
	fmt.Printf("%v\n", all[1])
	// Output:
	// upload a.png [1 2 3] caption
	// map[data:[1 2 3] name:a.png]
}
