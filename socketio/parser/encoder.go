package parser

import "strconv"

// AppendText appends the text frame of p and returns the extended buffer:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// Like Node's encoder it omits the namespace "/" (or "") and its comma.
// The attachment count written for a binary packet is
// len(p.Attachments). The type written follows the attachments, so that
// the frame is always one the [Decoder] accepts: an Event or Ack with
// attachments is written as BinaryEvent or BinaryAck (as Node's encoder
// does when the data holds binary), and a BinaryEvent or BinaryAck
// without attachments as Event or Ack ("50-" is invalid). Attachments of
// other types are not written.
//
// AppendText does not validate p (see [Packet]) and allocates nothing
// when dst has room.
func AppendText(dst []byte, p *Packet) []byte {
	t := wireType(p)
	dst = append(dst, typeBase+byte(t))
	if t.binary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, attachmentsEnd)
	}
	if p.Namespace != "" && p.Namespace != defaultNamespace {
		dst = append(dst, p.Namespace...)
		dst = append(dst, namespaceEnd)
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// Encode returns the frames of p: its text frame (see [AppendText]),
// then the binary frames to send after it, in order — p.Attachments when
// the packet is written as BinaryEvent or BinaryAck, nil otherwise. The
// attachments are not copied.
func Encode(p *Packet) (text []byte, attachments [][]byte) {
	text = AppendText(nil, p)
	if wireType(p).binary() {
		attachments = p.Attachments
	}
	return text, attachments
}

// wireType is the type AppendText writes for p.
func wireType(p *Packet) Type {
	hasAttachments := len(p.Attachments) > 0
	switch p.Type {
	case Event, BinaryEvent:
		if hasAttachments {
			return BinaryEvent
		}
		return Event
	case Ack, BinaryAck:
		if hasAttachments {
			return BinaryAck
		}
		return Ack
	}
	return p.Type
}
