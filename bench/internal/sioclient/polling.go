package sioclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// NewHTTPClient returns an HTTP client for n polling clients: each holds
// one long GET and, at times, one POST.
func NewHTTPClient(n int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2*n + 16
	t.MaxIdleConnsPerHost = 2*n + 16
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: time.Minute}
}

// PollingClient is a Socket.IO client over HTTP long-polling only.
type PollingClient struct {
	hc  *http.Client
	url string // base URL with EIO, transport and sid
	h   handler

	pmu  sync.Mutex // one POST at a time (the server refuses overlaps)
	pbuf []byte

	cancel  context.CancelFunc
	done    chan struct{}
	err     error
	closing atomic.Bool // Close was called: the GET loop's error is ours
	once    sync.Once
}

// DialPolling connects to the Socket.IO server at addr over HTTP
// long-polling (no upgrade) with hc (nil: NewHTTPClient(1)) and joins the
// main namespace.
func DialPolling(ctx context.Context, hc *http.Client, addr string, opts Options) (*PollingClient, error) {
	if hc == nil {
		hc = NewHTTPClient(1)
	}
	base := "http://" + addr + "/socket.io/?EIO=4&transport=polling"
	body, err := get(ctx, hc, base, nil)
	if err != nil {
		return nil, fmt.Errorf("sioclient: polling handshake: %w", err)
	}
	if len(body) == 0 || body[0] != eioOpen {
		return nil, fmt.Errorf("sioclient: expected an open packet, got %.60q", body)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if i := bytes.IndexByte(body, recordSeparator); i >= 0 {
		body = body[:i]
	}
	if err := json.Unmarshal(body[1:], &open); err != nil || open.SID == "" {
		return nil, fmt.Errorf("sioclient: bad open packet %.100q: %v", body, err)
	}
	c := &PollingClient{hc: hc, url: base + "&sid=" + open.SID, h: handler{opts: opts}, done: make(chan struct{})}
	if err := c.post(ctx, []byte{eioMessage, sioConnect}); err != nil {
		return nil, err
	}
	var buf []byte
	for range 16 {
		if buf, err = get(ctx, hc, c.url, buf[:0]); err != nil {
			return nil, fmt.Errorf("sioclient: polling connect: %w", err)
		}
		for p := range packets(buf) {
			switch {
			case len(p) == 1 && p[0] == eioPing:
				if err := c.post(ctx, []byte{eioPong}); err != nil {
					return nil, err
				}
			case len(p) >= 2 && p[0] == eioMessage && p[1] == sioConnect:
				lctx, cancel := context.WithCancel(context.Background())
				c.cancel = cancel
				go c.poll(lctx)
				return c, nil
			case len(p) >= 2 && p[0] == eioMessage && p[1] == sioConnectError:
				return nil, fmt.Errorf("%w: %.100s", ErrConnectRefused, p[2:])
			}
		}
	}
	return nil, errors.New("sioclient: no connect answer")
}

// packets iterates over the Engine.IO packets of a polling payload.
func packets(payload []byte) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(payload) > 0 {
			i := bytes.IndexByte(payload, recordSeparator)
			if i < 0 {
				yield(payload)
				return
			}
			if !yield(payload[:i]) {
				return
			}
			payload = payload[i+1:]
		}
	}
}

// get GETs url and appends the body to buf.
func get(ctx context.Context, hc *http.Client, url string, buf []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b := bytes.NewBuffer(buf)
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET: %s: %.100q", resp.Status, b.Bytes())
	}
	return b.Bytes(), nil
}

// post sends one payload.
func (c *PollingClient) post(ctx context.Context, p []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(p))
	if err != nil {
		return fmt.Errorf("sioclient: post: %w", err)
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("sioclient: post: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sioclient: post: %s", resp.Status)
	}
	return nil
}

// poll is the GET loop.
func (c *PollingClient) poll(ctx context.Context) {
	defer func() {
		if c.closing.Load() {
			c.err = nil
		}
		close(c.done)
	}()
	var buf []byte
	for {
		var err error
		buf, err = get(ctx, c.hc, c.url, buf[:0])
		if err != nil {
			if ctx.Err() == nil {
				c.err = fmt.Errorf("sioclient: poll: %w", err)
			}
			return
		}
		for p := range packets(buf) {
			if len(p) == 0 {
				continue
			}
			switch p[0] {
			case eioMessage:
				err = c.h.message(p)
			case eioPing:
				err = c.send(ctx, []byte{eioPong})
			case eioClose:
				err = errors.New("sioclient: closed by the server")
			}
			if err != nil {
				if ctx.Err() == nil {
					c.err = err
				}
				return
			}
		}
	}
}

func (c *PollingClient) send(ctx context.Context, p []byte) error {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return c.post(ctx, p)
}

// Emit sends event with args (see [Client.Emit]).
func (c *PollingClient) Emit(event string, args []byte) error {
	return c.emit(-1, event, args)
}

// EmitWithAck sends event with args and calls fn with the ack's
// arguments (see [Client.EmitWithAck]).
func (c *PollingClient) EmitWithAck(event string, args []byte, fn AckFunc) error {
	id := c.h.acks.add(fn)
	if err := c.emit(int64(id), event, args); err != nil {
		c.h.acks.take(id)
		return err
	}
	return nil
}

func (c *PollingClient) emit(id int64, event string, args []byte) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	c.pbuf = appendEvent(c.pbuf[:0], id, event, args)
	if err := c.post(context.Background(), c.pbuf); err != nil {
		return fmt.Errorf("sioclient: emit %q: %w", event, err)
	}
	return nil
}

// PendingAcks reports the acks still awaited.
func (c *PollingClient) PendingAcks() int { return c.h.acks.Pending() }

// Done is closed when the GET loop ends; Err then says why.
func (c *PollingClient) Done() <-chan struct{} { return c.done }

// Err is the reason the GET loop ended (nil after Close), once Done is
// closed.
func (c *PollingClient) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close sends a CLOSE packet, stops the GET loop and waits for it. It is
// idempotent.
func (c *PollingClient) Close() error {
	c.once.Do(func() {
		c.closing.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.send(ctx, []byte{eioClose})
		cancel()
		c.cancel()
	})
	<-c.done
	return nil
}
