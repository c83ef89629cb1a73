package memory

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// idSet behaves as a map[string]struct{}, below and above the size where
// it becomes one.
func TestIDSet(t *testing.T) {
	var s idSet
	ref := map[string]struct{}{}
	check := func(step string) {
		t.Helper()
		assert.Equal(t, len(ref), s.len(), step)
		assert.ElementsMatch(t, slices.Collect(maps.Keys(ref)), slices.Collect(s.all()), step)
		for x := range ref {
			assert.True(t, s.has(x), "%s: has %q", step, x)
		}
		assert.False(t, s.has("absent"), step)
	}
	check("empty")
	const n = 3 * maxListed
	for i := range n {
		x := fmt.Sprint(i)
		s.add(x)
		s.add(x) // twice: still one
		ref[x] = struct{}{}
		check("add " + x)
	}
	s.remove("absent")
	check("remove absent")
	for i := range n {
		x := fmt.Sprint((i * 5) % n)
		s.remove(x)
		delete(ref, x)
		check("remove " + x)
	}
	// Small again, and without a map: a slice emptied is released.
	var small idSet
	small.add("a")
	small.add("b")
	small.remove("a")
	small.remove("b")
	assert.Nil(t, small.list)
	assert.Nil(t, small.m)
}
