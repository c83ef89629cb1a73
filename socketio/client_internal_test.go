package socketio

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// socketSet behaves as a map by namespace name, whichever socket holds
// its first field.
func TestSocketSet(t *testing.T) {
	var ss socketSet
	ref := map[string]*Socket{}
	sock := func(name string) *Socket { return &Socket{ns: &Namespace{name: name}} }
	check := func() {
		t.Helper()
		require.Len(t, ss.appendTo(nil), len(ref))
		for name, s := range ref {
			assert.Same(t, s, ss.get(name), name)
		}
		assert.Nil(t, ss.get("/missing"))
		for _, s := range ss.appendTo(nil) {
			assert.Same(t, ref[s.ns.name], s)
		}
	}
	put := func(name string) *Socket {
		s := sock(name)
		ss.set(name, s)
		ref[name] = s
		check()
		return s
	}
	del := func(name string) {
		ss.remove(ref[name])
		delete(ref, name)
		check()
	}
	const n = 20
	for i := range n {
		put(fmt.Sprintf("/n%d", i))
	}
	// Replacing a namespace's socket, then removing the stale one.
	stale := ref["/n3"]
	put("/n3")
	ss.remove(stale)
	check()
	// The first socket replaced, then removed; a namespace kept in the
	// map set again while the field is free; both back.
	put("/n0")
	del("/n0")
	put("/n5")
	del("/n5")
	put("/n0")
	put("/n5")
	for i := range n {
		del(fmt.Sprintf("/n%d", (i*7)%n))
	}
	assert.Nil(t, ss.first)
	assert.Empty(t, ss.rest)
}
