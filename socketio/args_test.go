package socketio

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// ev.Args() sends the arguments on exactly as received: JSON bytes (key
// order, number forms, escapes) and binary attachments, renumbered.
func TestEventArgs_EchoExactly(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.On("echo", func(ctx context.Context, ev *Event) error {
		if err := ev.Socket().Emit("first", []byte{9}); err != nil { // an attachment of its own
			return err
		}
		if err := ev.Socket().Emit("back", ev.Args()...); err != nil {
			return err
		}
		return ev.Ack(ev.Args()...)
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`52-7["echo",{"b":1.0,"a":"\u00e9","bin":{"_placeholder":true,"num":1}},-0,{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte("zero"))
	c.sendBinary([]byte("one"))

	assert.Equal(t, `51-["first",{"_placeholder":true,"num":0}]`, c.read())
	assert.Equal(t, "bin:\x09", c.read())
	assert.Equal(t, `52-["back",{"b":1.0,"a":"\u00e9","bin":{"_placeholder":true,"num":0}},-0,{"_placeholder":true,"num":1}]`, c.read())
	assert.Equal(t, "bin:one", c.read())
	assert.Equal(t, "bin:zero", c.read())
	assert.Equal(t, `62-7[{"b":1.0,"a":"\u00e9","bin":{"_placeholder":true,"num":0}},-0,{"_placeholder":true,"num":1}]`, c.read())
	assert.Equal(t, "bin:one", c.read())
	assert.Equal(t, "bin:zero", c.read())
}
