package natsadapter_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter/adaptertest"
	natsadapter "github.com/gosio/gosio/adapter/nats"
)

// Invalid options are reported by the factory, before anything is
// subscribed.
func TestOptions_Invalid(t *testing.T) {
	nc := connect(t, embedded(t, nil))
	for name, opt := range map[string]natsadapter.Option{
		"empty prefix":      natsadapter.WithSubjectPrefix(""),
		"wildcard prefix":   natsadapter.WithSubjectPrefix("app.*"),
		"empty token":       natsadapter.WithSubjectPrefix("app..io"),
		"space in prefix":   natsadapter.WithSubjectPrefix("my app"),
		"zero interval":     natsadapter.WithHeartbeat(0, time.Second),
		"timeout too short": natsadapter.WithHeartbeat(time.Second, time.Second),
		"request timeout":   natsadapter.WithRequestTimeout(-1),
		"pending limits":    natsadapter.WithPendingLimits(0, 1),
		"start timeout":     natsadapter.WithStartTimeout(0),
	} {
		t.Run(name, func(t *testing.T) {
			a, err := natsadapter.New(nc, opt)(adaptertest.NewNamespace("/", nil))
			assert.Error(t, err)
			assert.Nil(t, a)
		})
	}
	_, err := natsadapter.New(nil)(adaptertest.NewNamespace("/", nil))
	assert.ErrorContains(t, err, "nil *nats.Conn")
}

// A multi-token prefix works, and the adapter speaks on the documented
// subject: <prefix>.<base64url of the namespace>.
func TestOptions_SubjectsAreDocumented(t *testing.T) {
	srv := embedded(t, nil)
	watcher := connect(t, srv)
	sub, err := watcher.SubscribeSync("acme.chat.L2NoYXQ")
	require.NoError(t, err)
	require.NoError(t, watcher.Flush())

	a, err := natsadapter.New(connect(t, srv), natsadapter.WithSubjectPrefix("acme.chat"))(adaptertest.NewNamespace("/chat", nil))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	msg, err := sub.NextMsg(10 * time.Second)
	require.NoError(t, err, "the adapter's hello on the namespace subject")
	assert.NotEmpty(t, msg.Data)
	assert.Equal(t, "L2NoYXQ", natsadapter.SubjectToken("/chat"))
	assert.Equal(t, "Lw", natsadapter.SubjectToken("/"))
}
