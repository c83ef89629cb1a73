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
	const n = 20
	for i := range n {
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
	// The first socket replaced, then removed; a namespace kept in the
	// map set again while the field is free.
	s = sock("/n0")
	ss.set("/n0", s)
	ref["/n0"] = s
	check()
	ss.remove(s)
	delete(ref, "/n0")
	check()
	s = sock("/n5")
	ss.set("/n5", s)
	ref["/n5"] = s
	check()
	ss.remove(s)
	delete(ref, "/n5")
	check()
	s = sock("/n0")
	ss.set("/n0", s)
	ref["/n0"] = s
	s = sock("/n5")
	ss.set("/n5", s)
	ref["/n5"] = s
	check()
	for i := range n {
		name := fmt.Sprintf("/n%d", (i*7)%n)
		ss.remove(ref[name])
		delete(ref, name)
		check()
	}
	assert.Nil(t, ss.first)
	assert.Empty(t, ss.rest)
}
