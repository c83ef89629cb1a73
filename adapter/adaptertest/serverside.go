package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
)

// serverSideCases check serverSideEmit (with and without acks) and
// ServerCount.
var serverSideCases = []testCase{
	{name: "ServerCount", run: testServerCount},
	{name: "ServerSideEmit", run: testServerSideEmit},
	{name: "ServerSideEmitWithAck", run: testServerSideEmitWithAck},
	{name: "ServerSideEmitWithAck/Partial", minServers: 2, run: testServerSideEmitPartial},
}

func testServerCount(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	for _, s := range c.servers {
		got, err := s.a.ServerCount(c.ctx())
		require.NoError(t, err, "server %d: ServerCount", s.idx)
		assert.Equal(t, n, got, "server %d: ServerCount counts every server, itself included", s.idx)
	}
}

// sseData returns the data of a server-side event named name, whose one
// attachment is passed beside it.
func sseData(name string) jsontext.Value {
	return jsontext.Value(fmt.Sprintf(`[%q,{"from":0},{"_placeholder":true,"num":0}]`, name))
}

// ssePlain returns the data of a server-side event named name without
// attachment.
func ssePlain(name string) jsontext.Value {
	return jsontext.Value(fmt.Sprintf(`[%q,{"from":0}]`, name))
}

// eventsNamed returns the server-side events ns received named name.
func eventsNamed(ns *Namespace, name string) []ServerEvent {
	var out []ServerEvent
	for _, ev := range ns.Events() {
		if dataName(ev.Data) == name {
			out = append(out, ev)
		}
	}
	return out
}

func testServerSideEmit(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	name, after := c.marker("sse"), c.marker("sse")
	attachments := [][]byte{{1, 2, 3}}
	require.NoError(t, c.servers[0].a.ServerSideEmit(sseData(name), attachments), "ServerSideEmit")
	require.NoError(t, c.servers[0].a.ServerSideEmit(ssePlain(after), nil), "ServerSideEmit")
	for _, s := range c.servers[1:] {
		c.eventually(func() bool { return len(eventsNamed(s.ns, after)) > 0 }, "server %d never received the second event", s.idx)
		evs := eventsNamed(s.ns, name)
		if assert.Len(t, evs, 1, "server %d receives the event once", s.idx) {
			assert.JSONEq(t, string(sseData(name)), string(evs[0].Data), "server %d: data", s.idx)
			assert.Equal(t, attachments, evs[0].Attachments, "server %d: attachments", s.idx)
			assert.False(t, evs[0].WantsReply, "server %d: no reply function without ack", s.idx)
		}
	}
	assert.Empty(t, c.servers[0].ns.Events(), "the sending server does not receive its own event")
}

func testServerSideEmitWithAck(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, replyWithIndex(nil))
	name := c.marker("sse")
	start := time.Now()
	responses, err := c.servers[0].a.ServerSideEmitWithAck(c.ctx(), sseData(name), [][]byte{{7}})
	elapsed := time.Since(start)
	require.NoError(t, err, "ServerSideEmitWithAck")
	if n == 1 {
		assert.Empty(t, responses, "with no other server, no answer")
		assert.Less(t, elapsed, h.Timeout/2, "with no other server, ServerSideEmitWithAck returns at once")
	}
	var got []string
	for _, r := range responses {
		got = append(got, string(r.Data))
		assert.Len(t, r.Attachments, 1, "response %s: attachments", r.Data)
	}
	var want []string
	for i := 1; i < n; i++ {
		want = append(want, fmt.Sprintf(`["reply",%d,{"_placeholder":true,"num":0}]`, i))
	}
	assert.ElementsMatch(t, want, normalize(t, got), "one answer per other server")
	for _, s := range c.servers[1:] {
		evs := eventsNamed(s.ns, name)
		if assert.Len(t, evs, 1, "server %d receives the event once", s.idx) {
			assert.True(t, evs[0].WantsReply, "server %d: a reply function is passed", s.idx)
			assert.Equal(t, [][]byte{{7}}, evs[0].Attachments, "server %d: attachments", s.idx)
		}
	}
	assert.Empty(t, c.servers[0].ns.Events(), "the sending server does not receive its own event")
}

func testServerSideEmitPartial(t *testing.T, h *Harness, n int) {
	silent := n - 1
	c := newCluster(t, h, n, replyWithIndex(func(i int) bool { return i == silent }))
	wait := min(h.Timeout/10, 300*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	start := time.Now()
	responses, err := c.servers[0].a.ServerSideEmitWithAck(ctx, ssePlain(c.marker("sse")), nil)
	assert.Less(t, time.Since(start), wait+h.Timeout, "ServerSideEmitWithAck returns soon after its context is done")
	var pe *adapter.PartialError
	require.ErrorAs(t, err, &pe, "a server that never answers makes a *adapter.PartialError")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the PartialError wraps the context's error")
	assert.Equal(t, n-1, pe.Expected, "Expected: one answer per other server")
	assert.Equal(t, n-2, pe.Received, "Received")
	assert.Len(t, responses, n-2, "the answers that arrived are returned with the error")
	assert.False(t, errors.Is(err, adapter.ErrClosed))
}

// replyWithIndex makes server i's namespace answer ["reply", i] with one
// attachment, except the servers silent reports.
func replyWithIndex(silent func(i int) bool) clusterOption {
	return func(i int) ReplyFunc {
		if silent != nil && silent(i) {
			return nil
		}
		return func(jsontext.Value, [][]byte) (jsontext.Value, [][]byte) {
			return jsontext.Value(fmt.Sprintf(`["reply",%d,{"_placeholder":true,"num":0}]`, i)), [][]byte{{byte(i)}}
		}
	}
}

// normalize reformats JSON values compactly, so that they compare as
// strings.
func normalize(t *testing.T, values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		b := jsontext.Value(v).Clone()
		if err := b.Compact(); err != nil {
			t.Errorf("invalid JSON %q: %v", v, err)
		}
		out[i] = string(b)
	}
	return out
}
