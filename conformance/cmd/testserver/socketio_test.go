package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sioDial opens a Socket.IO connection's Engine.IO session over
// WebSocket, pings answered.
func (e *env) sioDial() *wsConn {
	e.t.Helper()
	c, _ := e.wsHandshake(socketPath, true)
	return c
}

// connectPacket checks a CONNECT answer for namespace prefix ("40" or
// "40/custom,"): its payload is exactly {"sid": <string>}.
func connectPacket(t testing.TB, packet, prefix string) string {
	t.Helper()
	require.True(t, strings.HasPrefix(packet, prefix+"{"), "CONNECT answer %q, want prefix %q", packet, prefix)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(packet[len(prefix):]), &fields), packet)
	require.Len(t, fields, 1, packet)
	var sid string
	require.NoError(t, json.Unmarshal(fields["sid"], &sid), packet)
	require.NotEmpty(t, sid)
	return sid
}

// sioConnect opens a connection joined to "/" and reads the CONNECT
// answer and the auth event (the suite's initSocketIOConnection).
func (e *env) sioConnect() *wsConn {
	e.t.Helper()
	c := e.sioDial()
	c.send("40")
	connectPacket(e.t, c.nextText(), "40")
	c.expect(text(`42["auth",{}]`))
	return c
}

// CONNECT to "/" and "/custom", with and without payload, with and
// without the trailing comma after the namespace: the CONNECT answer,
// then the auth event with the payload as sent; unknown namespaces get
// CONNECT_ERROR "Invalid namespace".
func TestSocketIO_Connect(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name, send, prefix, auth string
	}{
		{"main", "40", "40", `42["auth",{}]`},
		{"main with payload", `40{"token":"123"}`, "40", `42["auth",{"token":"123"}]`},
		{"main payload order kept", `40{"z":1,"a":{"y":[2],"b":"é"}}`, "40", `42["auth",{"z":1,"a":{"y":[2],"b":"é"}}]`},
		{"custom", "40/custom,", "40/custom,", `42/custom,["auth",{}]`},
		{"custom without comma", "40/custom", "40/custom,", `42/custom,["auth",{}]`},
		{"custom with payload", `40/custom,{"token":"abc"}`, "40/custom,", `42/custom,["auth",{"token":"abc"}]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := e.with(t)
			conn := e.sioDial()
			conn.send(c.send)
			connectPacket(t, conn.nextText(), c.prefix)
			conn.expect(text(c.auth))
		})
	}
	t.Run("unknown namespace", func(t *testing.T) {
		e := e.with(t)
		for _, send := range []string{"40/random", "40/random,", `40/random,{"token":"1"}`} {
			conn := e.sioDial()
			conn.send(send)
			conn.expect(text(`44/random,{"message":"Invalid namespace"}`))
			// The connection stays up: "/" can still be joined.
			conn.send("40")
			connectPacket(t, conn.nextText(), "40")
			conn.expect(text(`42["auth",{}]`))
		}
	})
	t.Run("polling", func(t *testing.T) {
		e := e.with(t)
		sid := e.pollHandshake(socketPath)
		require.Equal(t, "ok", e.post(socketPath, pollQuery(sid), `40{"token":"123"}`).body)
		got := e.pollPackets(socketPath, sid, 2)
		connectPacket(t, got[0], "40")
		assert.Equal(t, `42["auth",{"token":"123"}]`, got[1])
	})
}

// Invalid CONNECT packets close the connection (the suite's "should
// disallow connection with an invalid handshake").
func TestSocketIO_InvalidHandshakeCloses(t *testing.T) {
	e := newEnv(t)
	for _, send := range []string{"4abc", "40[]", `40"abc"`, "40/custom,[]", "40null"} {
		t.Run(send, func(t *testing.T) {
			e := e.with(t)
			c := e.sioDial()
			c.send(send)
			assert.Empty(t, c.expectClosed())
		})
	}
	t.Run("binary before CONNECT", func(t *testing.T) {
		e := e.with(t)
		c := e.sioDial()
		c.sendBinary(4, 132, 23, 2)
		assert.Empty(t, c.expectClosed())
	})
}

// A connection that joins no namespace is closed after connectTimeout
// (1 s), although it answers every ping; one that joined stays.
func TestSocketIO_ConnectTimeout(t *testing.T) {
	e := newEnv(t)
	idle := e.sioDial()
	joined := e.sioConnect()
	assert.Empty(t, idle.expectClosed())
	joined.send(`42["message","still here"]`)
	joined.expect(text(`42["message-back","still here"]`))
}

// "message" is answered with "message-back" and exactly the same
// arguments: JSON as sent (key order, numbers, escapes) and binary
// attachments.
func TestSocketIO_MessageBack(t *testing.T) {
	e := newEnv(t)
	ph := func(n int) string { return `{"_placeholder":true,"num":` + string(rune('0'+n)) + `}` }
	for _, c := range []struct {
		name string
		send []frame
		want []frame
	}{
		{"plain", []frame{text(`42["message",1,"2",{"3":[true]}]`)}, []frame{text(`42["message-back",1,"2",{"3":[true]}]`)}},
		{"no arguments", []frame{text(`42["message"]`)}, []frame{text(`42["message-back"]`)}},
		// The JSON goes back byte for byte. (Node parses and
		// re-stringifies it, so it would write 1.5, 1000 and 0 here; the
		// suites only send values that round-trip unchanged.)
		{"key order and numbers", []frame{text(`42["message",{"z":1,"a":{"y":1.50,"b":[1e3,-0]},"m":null}]`)},
			[]frame{text(`42["message-back",{"z":1,"a":{"y":1.50,"b":[1e3,-0]},"m":null}]`)}},
		{"binary", []frame{text(`452-["message",1,` + ph(0) + `,` + ph(1) + `]`), binary(1, 2, 3), binary(4, 5, 6)},
			[]frame{text(`452-["message-back",1,` + ph(0) + `,` + ph(1) + `]`), binary(1, 2, 3), binary(4, 5, 6)}},
		{"binary after JSON", []frame{text(`451-["message",1,"2",{"3":[true]},` + ph(0) + `]`), binary(9)},
			[]frame{text(`451-["message-back",1,"2",{"3":[true]},` + ph(0) + `]`), binary(9)}},
		{"nested binary", []frame{text(`452-["message",{"z":` + ph(0) + `,"a":[1,{"b":` + ph(1) + `,"_placeholder":false}]}]`), binary(7), binary()},
			[]frame{text(`452-["message-back",{"z":` + ph(0) + `,"a":[1,{"b":` + ph(1) + `,"_placeholder":false}]}]`), binary(7), binary()}},
		// As socket.io-parser re-encodes: placeholders renumbered in
		// order of appearance, attachments reordered to match.
		{"placeholders out of order", []frame{text(`452-["message",` + ph(1) + `,` + ph(0) + `]`), binary(1), binary(2)},
			[]frame{text(`452-["message-back",` + ph(0) + `,` + ph(1) + `]`), binary(2), binary(1)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := e.with(t)
			conn := e.sioConnect()
			for _, f := range c.send {
				if f.binary {
					conn.sendBinary([]byte(f.data)...)
				} else {
					conn.send(f.data)
				}
			}
			conn.expect(c.want...)
		})
	}
	t.Run("polling", func(t *testing.T) {
		e := e.with(t)
		sid := e.pollHandshake(socketPath)
		require.Equal(t, "ok", e.post(socketPath, pollQuery(sid), "40").body)
		require.Len(t, e.pollPackets(socketPath, sid, 2), 2)
		b64 := "b" + base64.StdEncoding.EncodeToString([]byte{1, 2, 3})
		require.Equal(t, "ok", e.post(socketPath, pollQuery(sid), `451-["message",{"a":1},`+ph(0)+"]\x1e"+b64).body)
		assert.Equal(t, []string{`451-["message-back",{"a":1},` + ph(0) + "]", b64}, e.pollPackets(socketPath, sid, 2))
	})
}

// "message-with-ack" is acknowledged with exactly its arguments, binary
// included.
func TestSocketIO_MessageWithAck(t *testing.T) {
	e := newEnv(t)
	ph := `{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}`
	t.Run("plain", func(t *testing.T) {
		e := e.with(t)
		c := e.sioConnect()
		c.send(`42456["message-with-ack",1,"2",{"3":[false]}]`)
		c.expect(text(`43456[1,"2",{"3":[false]}]`))
		c.send(`421["message-with-ack"]`)
		c.expect(text(`431[]`))
	})
	t.Run("binary", func(t *testing.T) {
		e := e.with(t)
		c := e.sioConnect()
		c.send(`452-789["message-with-ack",1,` + ph + `]`)
		c.sendBinary(1, 2, 3)
		c.sendBinary(4, 5, 6)
		c.expect(text(`462-789[1,`+ph+`]`), binary(1, 2, 3), binary(4, 5, 6))
	})
	t.Run("without ack id", func(t *testing.T) {
		e := e.with(t)
		c := e.sioConnect()
		c.send(`42["message-with-ack",1]`)
		c.send(`42["message",2]`)
		c.expect(text(`42["message-back",2]`)) // nothing for the first one
	})
}

// "41" leaves "/" but not the Engine.IO connection: pings keep coming
// and "/" can be joined again (the suite's "should disconnect from the
// main namespace"). Leaving "/custom" leaves "/" alone.
func TestSocketIO_Disconnect(t *testing.T) {
	e := newEnv(t)
	t.Run("main", func(t *testing.T) {
		e := e.with(t)
		c, _ := e.wsHandshake(socketPath, false)
		c.send("40")
		connectPacket(t, c.nextText(), "40")
		c.expect(text(`42["auth",{}]`))
		c.send("41")
		c.expect(text("2")) // the next ping: the connection is open
		c.send("3")
		c.send("40")
		connectPacket(t, c.nextText(), "40")
		c.expect(text(`42["auth",{}]`))
	})
	t.Run("custom", func(t *testing.T) {
		e := e.with(t)
		c := e.sioConnect()
		c.send("40/custom")
		connectPacket(t, c.nextText(), "40/custom,")
		c.expect(text(`42/custom,["auth",{}]`))
		c.send("41/custom")
		c.send(`42["message","message to main namespace",1,2]`)
		c.expect(text(`42["message-back","message to main namespace",1,2]`))
	})
}

// Malformed packets close the connection (the suite's "should close the
// connection upon invalid format").
func TestSocketIO_MalformedPacketCloses(t *testing.T) {
	e := newEnv(t)
	for _, send := range []string{
		"4abc",
		"42{}",
		`42abc["message-with-ack",1,"2",{"3":[false]}]`,
		`42"message"`,
		`42[]`,
		`451-["message",{"_placeholder":true,"num":1}]`,
		"40", // CONNECT to a namespace already joined
	} {
		t.Run(send, func(t *testing.T) {
			e := e.with(t)
			c := e.sioConnect()
			c.send(send)
			assert.Empty(t, c.expectClosed())
		})
	}
	t.Run("polling", func(t *testing.T) {
		e := e.with(t)
		sid := e.pollHandshake(socketPath)
		require.Equal(t, "ok", e.post(socketPath, pollQuery(sid), "40").body)
		require.Len(t, e.pollPackets(socketPath, sid, 2), 2)
		res := e.post(socketPath, pollQuery(sid), "42{}")
		assert.Equal(t, http.StatusOK, res.status) // the Engine.IO packet was fine
		e.waitGone(sid)
		e.requireUnknownSID(socketPath, sid)
	})
}
