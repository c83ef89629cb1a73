// Package wire encodes and decodes the messages of the official Socket.IO
// cluster-adapter protocol (socket.io-adapter's cluster-adapter.ts), so that
// gosio servers and Node.js servers using a msgpack-based cluster adapter can
// share one cluster.
//
// # Format
//
// Every message is one MessagePack map, the envelope:
//
//	{"uid": string, "nsp": string, "type": int, "data": map}
//
// uid identifies the sending server ("emitter" for the Node emitter), nsp is
// the namespace and type one of the [MessageType] values 1 to 13. data is
// omitted by INITIAL_HEARTBEAT, HEARTBEAT and ADAPTER_CLOSE; the other types
// carry the payloads below (names are the official field names; "?" marks
// an optional field).
//
//	BROADCAST                  {opts, packet, requestId?}
//	SOCKETS_JOIN, SOCKETS_LEAVE {opts, rooms: [string]}
//	DISCONNECT_SOCKETS         {opts, close?: bool}
//	FETCH_SOCKETS              {opts, requestId}
//	FETCH_SOCKETS_RESPONSE     {requestId, sockets: [{id, handshake, rooms, data}]}
//	SERVER_SIDE_EMIT           {requestId?, packet: [event, args...]}
//	SERVER_SIDE_EMIT_RESPONSE  {requestId, packet, args?}
//	BROADCAST_CLIENT_COUNT     {requestId, clientCount: int}
//	BROADCAST_ACK              {requestId, packet, args?}
//
// A remote ack carries the first argument of the acknowledgement in packet,
// as Node reads it; args, a gosio extension that Node ignores, carries all
// of them when there are several.
//
// opts is {rooms: [string], except: [string], flags: {volatile?, compress?,
// local?, timeout?}} (timeout in milliseconds). A broadcast packet is the
// Socket.IO packet as an object {type, data, nsp?, id?}: type is 2 (EVENT)
// or 3 (ACK) and binary values travel inside data as MessagePack bin, never
// as placeholders and attachments; [PacketToWire] and [PacketFromWire]
// convert from and to [parser.Packet]. The presence of requestId asks for
// answers (BROADCAST_CLIENT_COUNT and BROADCAST_ACK, FETCH_SOCKETS_RESPONSE,
// SERVER_SIDE_EMIT_RESPONSE), sent to the requester.
//
// # Values
//
// Free-form values (packet data, socket data, handshake auth, server-side
// emits and acks) are what Node's msgpack codec makes of JavaScript
// values: maps are [Object]s, which keep the order of their keys,
// integers are int64 (uint64 above math.MaxInt64), other numbers
// float64, bin is []byte. [FromJSON] and [ToJSON] convert them from and to
// the JSON of Socket.IO packets as JSON.parse and JSON.stringify would,
// so that JSON written by JSON.stringify crosses servers byte for byte.
//
// # Robustness
//
// [Decode] treats its input as hostile: before anything is allocated, it
// walks the whole input once, checking that every declared length fits in
// what remains of it (each element needs at least one byte) and that
// nesting stays under a fixed depth, so allocation is linear in the input
// size. Everything it rejects is an error wrapping [ErrInvalidMessage].
package wire
