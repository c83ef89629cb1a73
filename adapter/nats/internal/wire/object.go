package wire

// Object is a MessagePack map, or a JSON object, with its members in
// order. [Decode] and [FromJSON] return one for every map and object of a
// free-form value (packet data, socket data, handshake auth, server-side
// emits and acks), so that a value crosses servers with the order of its
// keys, as JavaScript objects (and Node's msgpack codec) keep it.
//
// The decoders never return duplicate keys: like JSON.parse and Node's
// msgpack decoder, they keep the first position and the last value of a
// repeated key.
type Object []Member

// Member is one key and value of an [Object].
type Member struct {
	Key   string
	Value any
}

// Get returns the value of the member called key, the last one if the
// key is repeated, and whether there is one.
func (o Object) Get(key string) (any, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].Key == key {
			return o[i].Value, true
		}
	}
	return nil, false
}

// linearDedupe is the size up to which dedupe compares keys pairwise
// rather than indexing them in a map.
const linearDedupe = 16

// dedupe removes repeated keys from o in place, keeping the first
// position and the last value of each (JSON.parse's and JavaScript's
// property assignment semantics). Its cost is linear in len(o), with a
// map only for objects of more than linearDedupe members; an object
// without duplicates is returned as it is, without allocating.
func dedupe(o Object) Object {
	if len(o) < 2 {
		return o
	}
	if len(o) <= linearDedupe {
		for i := 1; i < len(o); i++ {
			for j := range i {
				if o[j].Key == o[i].Key {
					return dedupeFrom(o)
				}
			}
		}
		return o
	}
	seen := make(map[string]struct{}, len(o))
	for _, m := range o {
		if _, dup := seen[m.Key]; dup {
			return dedupeFrom(o)
		}
		seen[m.Key] = struct{}{}
	}
	return o
}

// dedupeFrom is the slow path of dedupe, for an object known to repeat a
// key: it compacts o in place (the output never overtakes the input).
func dedupeFrom(o Object) Object {
	at := make(map[string]int, len(o))
	out := o[:0]
	for _, m := range o {
		if i, dup := at[m.Key]; dup {
			out[i].Value = m.Value
			continue
		}
		at[m.Key] = len(out)
		out = append(out, m)
	}
	clear(o[len(out):]) // drop references held by the removed tail
	return out
}
