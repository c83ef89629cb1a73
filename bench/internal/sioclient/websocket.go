package sioclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// writeBuffers is shared by every client's WebSocket writer: idle
// clients hold no write buffer.
var writeBuffers = &sync.Pool{}

// NewDialer returns a WebSocket dialer with small buffers, so that ten
// thousand clients fit in the load generator comfortably.
func NewDialer() *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  writeBuffers,
		NetDialContext:   (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}
}

// Client is a Socket.IO client over one WebSocket.
type Client struct {
	conn *websocket.Conn
	h    handler

	wmu  sync.Mutex // serializes writes; guards wbuf
	wbuf []byte

	done    chan struct{} // closed when the reader returns
	err     error         // why the reader returned; read after done
	closing atomic.Bool   // Close was called: the reader's error is ours
	once    sync.Once
}

// Dial connects to the Socket.IO server at addr (host:port), path
// /socket.io/, over WebSocket only, and joins the main namespace. d nil
// means NewDialer().
func Dial(ctx context.Context, d *websocket.Dialer, addr string, opts Options) (*Client, error) {
	if d == nil {
		d = NewDialer()
	}
	conn, resp, err := d.DialContext(ctx, "ws://"+addr+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		return nil, fmt.Errorf("sioclient: dial %s: %w", addr, err)
	}
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	c := &Client{conn: conn, h: handler{opts: opts}, done: make(chan struct{})}
	if err := c.handshake(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	go c.read()
	return c, nil
}

// handshake reads the OPEN packet, sends CONNECT and waits for its answer.
func (c *Client) handshake(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetReadDeadline(dl)
		defer func() { _ = c.conn.SetReadDeadline(time.Time{}) }()
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	_, p, err := c.conn.ReadMessage()
	if err != nil {
		return fmt.Errorf("sioclient: read open: %w", err)
	}
	if len(p) == 0 || p[0] != eioOpen {
		return fmt.Errorf("sioclient: expected an open packet, got %.60q", p)
	}
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte{eioMessage, sioConnect}); err != nil {
		return fmt.Errorf("sioclient: send connect: %w", err)
	}
	for range 16 { // a ping may come first
		_, p, err := c.conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("sioclient: read connect: %w", err)
		}
		switch {
		case len(p) == 1 && p[0] == eioPing:
			if err := c.conn.WriteMessage(websocket.TextMessage, []byte{eioPong}); err != nil {
				return fmt.Errorf("sioclient: pong: %w", err)
			}
		case len(p) >= 2 && p[0] == eioMessage && p[1] == sioConnect:
			return nil
		case len(p) >= 2 && p[0] == eioMessage && p[1] == sioConnectError:
			return fmt.Errorf("%w: %.100s", ErrConnectRefused, p[2:])
		default:
			return fmt.Errorf("sioclient: unexpected packet before connect: %.60q", p)
		}
	}
	return errors.New("sioclient: no connect answer")
}

// read is the reader goroutine: pings, ticks, acks.
func (c *Client) read() {
	defer func() {
		if c.closing.Load() {
			c.err = nil
		}
		close(c.done)
	}()
	var buf bytes.Buffer
	for {
		_, r, err := c.conn.NextReader()
		if err != nil {
			c.err = err
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			c.err = err
			return
		}
		p := buf.Bytes()
		if len(p) == 0 {
			continue
		}
		switch p[0] {
		case eioMessage:
			if err := c.h.message(p); err != nil {
				c.err = err
				_ = c.conn.Close()
				return
			}
		case eioPing:
			if err := c.write([]byte{eioPong}); err != nil {
				c.err = err
				return
			}
		case eioClose:
			c.err = errors.New("sioclient: closed by the server")
			_ = c.conn.Close()
			return
		}
	}
}

func (c *Client) write(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.conn.WriteMessage(websocket.TextMessage, p); err != nil {
		return fmt.Errorf("sioclient: write: %w", err)
	}
	return nil
}

// Emit sends event with args, the JSON of its arguments separated by
// commas (nil for none), asking for no ack.
func (c *Client) Emit(event string, args []byte) error {
	return c.emit(-1, event, args)
}

// EmitWithAck sends event with args and calls fn with the ack's
// arguments when it comes. fn runs on the reader goroutine.
func (c *Client) EmitWithAck(event string, args []byte, fn AckFunc) error {
	id := c.h.acks.add(fn)
	if err := c.emit(int64(id), event, args); err != nil {
		c.h.acks.take(id)
		return err
	}
	return nil
}

func (c *Client) emit(id int64, event string, args []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = appendEvent(c.wbuf[:0], id, event, args)
	if err := c.conn.WriteMessage(websocket.TextMessage, c.wbuf); err != nil {
		return fmt.Errorf("sioclient: emit %q: %w", event, err)
	}
	return nil
}

// PendingAcks reports the acks still awaited.
func (c *Client) PendingAcks() int { return c.h.acks.Pending() }

// Done is closed when the connection ends (Close, or the server or
// network ended it); Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is the reason the connection ended, once Done is closed; nil
// before.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close closes the connection and waits for the reader. It is
// idempotent.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.closing.Store(true)
		// A polite close frame, then the socket: the reader returns.
		c.wmu.Lock()
		_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.wmu.Unlock()
		_ = c.conn.Close()
	})
	<-c.done
	return nil
}
