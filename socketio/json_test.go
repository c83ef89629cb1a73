package socketio

import (
	json "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v, jsonv1.DefaultOptionsV1()) }
