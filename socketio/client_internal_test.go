package socketio

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// socketSet behaves as a map by namespace name, below and above the
// size where it starts to index its sockets.
func TestSocketSet(t *testing.T) {
	var ss socketSet
	ref := map[string]*Socket{}
	sock := func(name string) *Socket { return &Socket{ns: &Namespace{name: name}} }
	check := func() {
		t.Helper()
		require.Len(t, ss.all(), len(ref))
		for name, s := range ref {
			assert.Same(t, s, ss.get(name), name)
		}
		assert.Nil(t, ss.get("/missing"))
		for _, s := range ss.all() {
			assert.Same(t, ref[s.ns.name], s)
		}
	}
	for i := range 3 * maxListed {
		name := fmt.Sprintf("/n%d", i)
		s := sock(name)
		ss.set(name, s)
		ref[name] = s
		check()
	}
	// Replacing a namespace's socket, removing a stale one, then all.
	s := sock("/n3")
	stale := ref["/n3"]
	ss.set("/n3", s)
	ref["/n3"] = s
	check()
	ss.remove(stale)
	check()
	for i := range 3 * maxListed {
		name := fmt.Sprintf("/n%d", (i*7)%(3*maxListed))
		ss.remove(ref[name])
		delete(ref, name)
		check()
	}
	assert.Nil(t, ss.list)
	assert.Nil(t, ss.byName)
}
