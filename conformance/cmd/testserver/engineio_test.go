package main

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Both paths answer the handshake with the suites' configuration: sid,
// upgrades, pingInterval 300, pingTimeout 200, maxPayload 1000000, and
// CORS headers for any origin (the suites also run from a browser page).
func TestHandshake(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{enginePath, socketPath} {
		t.Run(strings.Trim(path, "/"), func(t *testing.T) {
			e := e.with(t)
			t.Run("polling", func(t *testing.T) {
				e := e.with(t)
				for _, origin := range []string{"", "http://example.com"} {
					hdr := http.Header{}
					if origin != "" {
						hdr.Set("Origin", origin)
					}
					res := e.mustDo(http.MethodGet, path, pollingHandshake, "", hdr)
					require.Equal(t, http.StatusOK, res.status, res.body)
					assert.Equal(t, "*", res.header.Get("Access-Control-Allow-Origin"), "origin %q", origin)
					assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
					openPacket(t, res.body, `["websocket"]`)
				}
			})
			t.Run("preflight", func(t *testing.T) {
				e := e.with(t)
				res := e.mustDo(http.MethodOptions, path, pollingHandshake, "", http.Header{
					"Origin":                         {"http://example.com"},
					"Access-Control-Request-Method":  {"POST"},
					"Access-Control-Request-Headers": {"content-type"},
				})
				assert.Equal(t, http.StatusNoContent, res.status)
				assert.Equal(t, "*", res.header.Get("Access-Control-Allow-Origin"))
				assert.Equal(t, "GET,HEAD,PUT,PATCH,POST,DELETE", res.header.Get("Access-Control-Allow-Methods"))
				assert.Equal(t, "content-type", res.header.Get("Access-Control-Allow-Headers"))
			})
			t.Run("websocket", func(t *testing.T) {
				e := e.with(t)
				e.wsHandshake(path, true)
			})
			t.Run("bad requests", func(t *testing.T) {
				e := e.with(t)
				for _, c := range []struct{ method, query, body string }{
					{http.MethodGet, "transport=polling", `{"code":5,"message":"Unsupported protocol version"}`},
					{http.MethodGet, "EIO=abc&transport=polling", `{"code":5,"message":"Unsupported protocol version"}`},
					{http.MethodGet, "EIO=4", `{"code":0,"message":"Transport unknown"}`},
					{http.MethodGet, "EIO=4&transport=abc", `{"code":0,"message":"Transport unknown"}`},
					{http.MethodPost, pollingHandshake, `{"code":2,"message":"Bad handshake method"}`},
					{http.MethodPut, pollingHandshake, `{"code":2,"message":"Bad handshake method"}`},
				} {
					res := e.mustDo(c.method, path, c.query, "", nil)
					assert.Equal(t, http.StatusBadRequest, res.status, "%s %s", c.method, c.query)
					assert.JSONEq(t, c.body, res.body, "%s %s", c.method, c.query)
				}
				for _, q := range []string{"transport=websocket", "EIO=abc&transport=websocket", "EIO=4", "EIO=4&transport=abc"} {
					c, res, err := e.dial(path, q, true)
					if err == nil {
						got := c.expectClosed()
						assert.Empty(t, got, "websocket %s", q)
						continue
					}
					require.ErrorIs(t, err, websocket.ErrBadHandshake, "websocket %s", q)
					assert.Equal(t, http.StatusBadRequest, res.StatusCode, "websocket %s", q)
				}
			})
		})
	}
}

// /engine.io/ echoes text and binary messages over long-polling.
func TestEngineIO_EchoPolling(t *testing.T) {
	e := newEnv(t)
	for _, payload := range []string{
		"4hello",
		"4test1\x1e4test2\x1e4test3",
		"4hello\x1ebAQIDBA==",
		"4é\x1e4" + strings.Repeat("x", 2000), // compressed answer (≥ 1024 bytes) and UTF-8
	} {
		sid := e.pollHandshake(enginePath)
		res := e.post(enginePath, pollQuery(sid), payload)
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Equal(t, "ok", res.body)
		want := strings.Split(payload, "\x1e")
		assert.Equal(t, want, e.pollPackets(enginePath, sid, len(want)))
	}
}

// /engine.io/ echoes text and binary messages over WebSocket.
func TestEngineIO_EchoWebSocket(t *testing.T) {
	e := newEnv(t)
	c, _ := e.wsHandshake(enginePath, true)
	c.send("4hello")
	c.expect(text("4hello"))
	c.sendBinary(1, 2, 3, 4)
	c.expect(binary(1, 2, 3, 4))
	c.send("4test1")
	c.sendBinary(5)
	c.send("4test2")
	c.expect(text("4test1"), binary(5), text("4test2"))
}

// An invalid packet closes the session, on both transports.
func TestEngineIO_InvalidPacketClosesSession(t *testing.T) {
	e := newEnv(t)
	t.Run("polling", func(t *testing.T) {
		e := e.with(t)
		sid := e.pollHandshake(enginePath)
		res := e.post(enginePath, pollQuery(sid), "abc")
		assert.Equal(t, http.StatusBadRequest, res.status)
		e.requireUnknownSID(enginePath, sid)
	})
	t.Run("websocket", func(t *testing.T) {
		e := e.with(t)
		c, _ := e.wsHandshake(enginePath, true)
		c.send("abc")
		assert.Empty(t, c.expectClosed())
	})
}

// The client's close packet closes the session: a pending GET gets a
// noop, then the sid is unknown; a WebSocket is closed.
func TestEngineIO_ClientClose(t *testing.T) {
	e := newEnv(t)
	t.Run("polling", func(t *testing.T) {
		e := e.with(t)
		// waitGET sees the GET reach the HTTP handler, not the session:
		// the close may still overtake it, and then the GET rightly finds
		// the session gone. Try again until the GET was pending first.
		const attempts = 20
		for range attempts {
			sid := e.pollHandshake(enginePath)
			got := make(chan response, 1)
			go func() {
				res, _ := e.do(context.Background(), http.MethodGet, enginePath, pollQuery(sid), "", nil)
				got <- res
			}()
			e.waitGET(sid)
			assert.Equal(t, "ok", e.post(enginePath, pollQuery(sid), "1").body)
			res := recv(t, got)
			e.requireUnknownSID(enginePath, sid)
			if res.status == http.StatusBadRequest {
				assert.JSONEq(t, `{"code":1,"message":"Session ID unknown"}`, res.body, "a GET arriving after the close")
				continue
			}
			assert.Equal(t, http.StatusOK, res.status)
			assert.Contains(t, []string{"6", "2\x1e6"}, res.body) // a ping may have gone out before
			return
		}
		t.Fatalf("in %d attempts, the close always overtook the GET", attempts)
	})
	t.Run("websocket", func(t *testing.T) {
		e := e.with(t)
		c, _ := e.wsHandshake(enginePath, true)
		c.send("1")
		assert.Empty(t, c.expectClosed())
	})
}

// The server pings every pingInterval and the session lives on as long as
// the client answers.
func TestEngineIO_Heartbeat(t *testing.T) {
	e := newEnv(t)
	t.Run("polling", func(t *testing.T) {
		e := e.with(t)
		sid := e.pollHandshake(enginePath)
		for range 3 {
			res := e.get(enginePath, pollQuery(sid))
			require.Equal(t, http.StatusOK, res.status)
			require.Equal(t, "2", res.body)
			res = e.post(enginePath, pollQuery(sid), "3")
			require.Equal(t, http.StatusOK, res.status)
			require.Equal(t, "ok", res.body)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		e := e.with(t)
		c, _ := e.wsHandshake(enginePath, false)
		for range 3 {
			c.expect(text("2"))
			c.send("3")
		}
	})
}

// Heartbeat timers start at the handshake: a session that never polls and
// never answers a ping is closed by pingInterval + pingTimeout, even with
// no GET pending (the engine.io suite's "closes the session upon ping
// timeout").
func TestEngineIO_SilentSessionTimesOut(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{enginePath, socketPath} {
		t.Run(strings.Trim(path, "/")+"/polling", func(t *testing.T) {
			e := e.with(t)
			sid := e.pollHandshake(path)
			e.waitGone(sid) // no request at all meanwhile
			e.requireUnknownSID(path, sid)
		})
		t.Run(strings.Trim(path, "/")+"/websocket", func(t *testing.T) {
			e := e.with(t)
			c, _ := e.wsHandshake(path, false)
			got := c.expectClosed()
			assert.Equal(t, []frame{text("2")}, got, "one ping, then the close")
		})
	}
}

// A second GET while one is pending closes the session: the pending one
// gets the close packet, the other 400, and the sid is gone (the suite's
// "closes the session upon duplicate poll requests").
func TestEngineIO_DuplicateGETClosesSession(t *testing.T) {
	e := newEnv(t)
	sid := e.pollHandshake(enginePath)
	got := make(chan response, 2)
	get := func() {
		res, err := e.do(context.Background(), http.MethodGet, enginePath, pollQuery(sid), "", nil)
		if err != nil {
			res.body = err.Error()
		}
		got <- res
	}
	go get()
	e.waitGET(sid)
	go get()
	a, b := recv(t, got), recv(t, got)
	if a.status != http.StatusOK { // which GET the server took first is up to the network
		a, b = b, a
	}
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "1", a.body)
	assert.Equal(t, http.StatusBadRequest, b.status)
	e.requireUnknownSID(enginePath, sid)
}

// A GET the client abandons closes the session (the suite's "closes the
// session upon cancelled polling request").
func TestEngineIO_CancelledGETClosesSession(t *testing.T) {
	e := newEnv(t)
	sid := e.pollHandshake(enginePath)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.do(ctx, http.MethodGet, enginePath, pollQuery(sid), "", nil)
		done <- err
	}()
	e.waitGET(sid)
	cancel()
	require.ErrorIs(t, recv(t, done), context.Canceled)
	// No other request until the server has noticed: the close must come
	// from the abandoned GET, not from an overlap with the next one.
	e.waitGone(sid)
	e.requireUnknownSID(enginePath, sid)
}

// During the upgrade, a pending GET is released with a noop; after it,
// the old sid is refused on polling and on a second WebSocket, and the
// WebSocket carries the session.
func TestEngineIO_Upgrade(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{enginePath, socketPath} {
		t.Run(strings.Trim(path, "/"), func(t *testing.T) {
			e := e.with(t)
			t.Run("GET pending before the probe", func(t *testing.T) {
				e := e.with(t)
				sid := e.pollHandshake(path)
				got := make(chan response, 1)
				go func() {
					res, err := e.do(context.Background(), http.MethodGet, path, pollQuery(sid), "", nil)
					if err != nil {
						res.body = err.Error()
					}
					got <- res
				}()
				e.waitGET(sid)
				c := e.mustDial(path, wsHandshake+"&sid="+sid, true)
				c.send("2probe")
				c.expect(text("3probe"))
				res := recv(t, got)
				assert.Equal(t, http.StatusOK, res.status)
				assert.Equal(t, "6", res.body)
				c.send("5")
				if path == enginePath {
					c.send("4hello")
					c.expect(text("4hello"))
				}
			})
			t.Run("GET after the probe", func(t *testing.T) {
				e := e.with(t)
				sid := e.pollHandshake(path)
				c := e.mustDial(path, wsHandshake+"&sid="+sid, true)
				c.send("2probe")
				c.expect(text("3probe"))
				res := e.get(path, pollQuery(sid))
				assert.Equal(t, http.StatusOK, res.status)
				assert.Equal(t, "6", res.body)
				c.send("5")
				if path == enginePath {
					c.send("4hello")
					c.expect(text("4hello"))
				}
			})
			t.Run("old sid refused", func(t *testing.T) {
				e := e.with(t)
				sid := e.pollHandshake(path)
				c := e.mustDial(path, wsHandshake+"&sid="+sid, true)
				c.send("2probe")
				c.expect(text("3probe"))
				c.send("5")
				e.waitUpgraded(sid)

				res := e.get(path, pollQuery(sid))
				assert.Equal(t, http.StatusBadRequest, res.status)
				assert.JSONEq(t, `{"code":3,"message":"Bad request"}`, res.body)
				res = e.post(path, pollQuery(sid), "4hello")
				assert.Equal(t, http.StatusBadRequest, res.status)
				assert.JSONEq(t, `{"code":3,"message":"Bad request"}`, res.body)

				c2, res2, err := e.dial(path, wsHandshake+"&sid="+sid, true)
				if err == nil {
					assert.Empty(t, c2.expectClosed(), "second WebSocket")
				} else {
					require.True(t, errors.Is(err, websocket.ErrBadHandshake), "%v", err)
					assert.Equal(t, http.StatusBadRequest, res2.StatusCode)
				}

				if path == enginePath {
					c.send("4hello")
					c.expect(text("4hello"))
				}
				assert.NotNil(t, e.session(sid), "session still open")
			})
		})
	}
}

// Binary messages over polling are base64 ("b" prefix) both ways.
func TestEngineIO_BinaryOverPolling(t *testing.T) {
	e := newEnv(t)
	sid := e.pollHandshake(enginePath)
	data := []byte{0, 1, 2, 0xfe, 0xff}
	b64 := "b" + base64.StdEncoding.EncodeToString(data)
	require.Equal(t, "ok", e.post(enginePath, pollQuery(sid), b64).body)
	assert.Equal(t, []string{b64}, e.pollPackets(enginePath, sid, 1))
}
