package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestEcho(t *testing.T) {
	eio, h, err := newHandler(t.TempDir(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = eio.Close() })
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(client.CloseIdleConnections)

	res, err := client.Get(ts.URL + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, string(page), `new eio.Socket(`)

	// No local client build in an empty dir: redirected to the CDN.
	res, err = client.Get(ts.URL + "/engine.io.min.js")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusFound, res.StatusCode)
	assert.Equal(t, cdnClient, res.Header.Get("Location"))

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/engine.io/?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	defer ws.Close()
	_, open, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, byte('0'), open[0])
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("4hi there")))
	_, echo, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "4hi there", string(echo))
}
