package memory

import (
	"iter"
	"maps"
	"slices"
)

// idSet is a set of strings: socket ids, or room names. Most sets are
// tiny (the room named after a socket's id has one member; a socket is in
// that room and a few others), and a map costs some 250 bytes even for
// one element, so a set is a slice up to maxListed elements, then a map.
// The zero value is an empty set.
type idSet struct {
	list []string
	m    map[string]struct{}
}

const maxListed = 8

func (s *idSet) add(x string) {
	switch {
	case s.m != nil:
		s.m[x] = struct{}{}
	case slices.Contains(s.list, x):
	case len(s.list) < maxListed:
		s.list = append(s.list, x)
	default:
		s.m = make(map[string]struct{}, 2*maxListed)
		for _, y := range s.list {
			s.m[y] = struct{}{}
		}
		s.m[x] = struct{}{}
		s.list = nil
	}
}

func (s *idSet) remove(x string) {
	if s.m != nil {
		delete(s.m, x)
		return
	}
	i := slices.Index(s.list, x)
	if i < 0 {
		return
	}
	last := len(s.list) - 1
	s.list[i] = s.list[last]
	s.list[last] = ""
	s.list = s.list[:last]
	if last == 0 {
		s.list = nil
	}
}

func (s *idSet) has(x string) bool {
	if s.m != nil {
		_, ok := s.m[x]
		return ok
	}
	return slices.Contains(s.list, x)
}

func (s *idSet) len() int {
	if s.m != nil {
		return len(s.m)
	}
	return len(s.list)
}

// all yields the elements, in no particular order. The set must not
// change during the iteration.
func (s *idSet) all() iter.Seq[string] {
	if s.m != nil {
		return maps.Keys(s.m)
	}
	return slices.Values(s.list)
}
