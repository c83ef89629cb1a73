package chatapp

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio"
)

// Input limits.
const (
	maxNickLen = 32   // runes
	maxTextLen = 2000 // runes
	maxNameLen = 200  // runes, an image's file name
)

// MaxImageBytes is the default limit of an image's size (2 MiB), the
// page's own; see [Options.MaxImageBytes].
const MaxImageBytes = 2 << 20

var (
	roomRe = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	mimeRe = regexp.MustCompile(`^image/[a-z0-9][a-z0-9.+-]{0,63}$`)
)

// Client → server payloads.
type (
	joinIn struct {
		Nick string `json:"nick"`
		Room string `json:"room"`
	}
	chatIn struct {
		Text string `json:"text"`
	}
	typingIn struct {
		Typing bool `json:"typing"`
	}
	imageIn struct {
		Name string `json:"name"`
		Mime string `json:"mime"`
		Data []byte `json:"data"` // a binary attachment
	}
)

// Server → client payloads.
type (
	// Result answers chat and image: {ok: true} or {ok: false, error}.
	Result struct {
		OK    bool   `json:"ok"`
		Error string `json:"error,omitempty"`
	}
	joinResult struct {
		OK      bool     `json:"ok"`
		Error   string   `json:"error,omitempty"`
		Members []string `json:"members,omitempty"`
	}
	userOut struct {
		Nick string `json:"nick"`
	}
	chatOut struct {
		Nick string `json:"nick"`
		Text string `json:"text"`
		At   int64  `json:"at"` // Unix milliseconds, for JS Date
	}
	typingOut struct {
		Nick   string `json:"nick"`
		Typing bool   `json:"typing"`
	}
	imageOut struct {
		Nick string `json:"nick"`
		Name string `json:"name"`
		Mime string `json:"mime"`
		Data []byte `json:"data"`
		At   int64  `json:"at"`
	}
)

// Member is what a socket stores with SetData once it has joined a room;
// FetchSockets returns it for the member list, from every server: it
// crosses servers as JSON (MessagePack over NATS), so it holds nothing
// but its exported fields.
type Member struct {
	Nick string `json:"nick"`
	Room string `json:"room"`
}

// chat holds the handlers. All its state lives in the sockets (SetData)
// and the adapter's rooms, never in this process's memory: with a
// cluster adapter, every server of the cluster sees the same rooms and
// members. The events of one socket are handled one at a time, so a
// socket's member data needs no lock.
type chat struct {
	srv      *socketio.Server
	log      *slog.Logger
	now      func() time.Time
	maxImage int // bytes
}

func newChat(srv *socketio.Server, logger *slog.Logger, maxImage int) *chat {
	return &chat{srv: srv, log: logger, now: time.Now, maxImage: maxImage}
}

func (c *chat) register() {
	c.srv.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
		c.log.Info("connected", "socket", s, "transport", s.Conn().Transport(), "recovered", s.Recovered())
		if m, ok := MemberOf(s); ok && s.Recovered() {
			// Connection state recovery gave the socket back its id, rooms
			// and data, and the events it missed: the others, who saw it
			// leave, see it come back. The page does not join again.
			c.report(s, s.To(m.Room).Emit("user joined", userOut{Nick: m.Nick}))
			c.log.Info("rejoined", "socket", s, "nick", m.Nick, "room", m.Room)
		}
		return nil
	})
	c.srv.On("join", ackOnBadInput(socketio.HandleAck(c.join), joinResult{Error: "invalid payload"}))
	c.srv.On("chat", ackOnBadInput(socketio.HandleAck(c.chat), Result{Error: "invalid payload"}))
	c.srv.On("image", ackOnBadInput(socketio.HandleAck(c.image), Result{Error: "invalid payload"}))
	c.srv.On("typing", socketio.Handle(c.typing))
	c.srv.OnDisconnect(func(s *socketio.Socket, reason socketio.Reason) {
		c.log.Info("disconnected", "socket", s, "reason", string(reason))
		if m, ok := MemberOf(s); ok {
			// The socket has already left its rooms. Except its own id:
			// should it come back by connection state recovery, this event
			// must not be among those it missed (it would read that it
			// left itself).
			c.report(s, c.srv.To(m.Room).Except(s.ID()).Emit("user left", userOut{Nick: m.Nick}))
		}
	})
}

// ackOnBadInput answers with bad when the event's argument does not decode
// into the handler's type (HandleAck reports the error and sends no ack,
// which would leave the client waiting for its timeout).
func ackOnBadInput[R any](h socketio.EventHandlerFunc, bad R) socketio.EventHandlerFunc {
	return func(ctx context.Context, ev *socketio.Event) error {
		err := h(ctx, ev)
		var argErr *socketio.ArgError
		if errors.As(err, &argErr) && ev.HasAck() {
			if ackErr := ev.Ack(bad); ackErr != nil {
				return errors.Join(err, ackErr)
			}
		}
		return err
	}
}

// MemberOf returns the nick and room of a socket of this server, if it
// has joined a room.
func MemberOf(s *socketio.Socket) (Member, bool) {
	m, ok := s.Data().(Member)
	return m, ok
}

// report logs an error of the server side (an emit or FetchSockets that
// failed: a closed server, or, with a cluster adapter, other servers not
// reached); the client gets an error field, not silence.
func (c *chat) report(s *socketio.Socket, err error) {
	if err != nil {
		c.log.Warn("chat: server error", "socket", s, "err", err)
	}
}

func (c *chat) join(ctx context.Context, s *socketio.Socket, in joinIn) (joinResult, error) {
	nick := strings.TrimSpace(in.Nick)
	room := strings.TrimSpace(in.Room)
	if msg := checkText("nickname", nick, maxNickLen); msg != "" {
		return joinResult{Error: msg}, nil
	}
	if !roomRe.MatchString(room) {
		return joinResult{Error: "room must be 1 to 32 characters among a-z, 0-9 and -"}, nil
	}
	next := Member{Nick: nick, Room: room}
	prev, joined := MemberOf(s)
	if !joined || prev != next {
		if joined {
			s.Leave(prev.Room)
			c.report(s, c.srv.To(prev.Room).Emit("user left", userOut{Nick: prev.Nick}))
		}
		s.Join(room)
		s.SetData(next)
		c.report(s, s.To(room).Emit("user joined", userOut{Nick: nick}))
		c.log.Info("joined", "socket", s, "nick", nick, "room", room)
	}

	sockets, err := c.srv.In(room).FetchSockets(ctx)
	var partial *adapter.PartialError
	switch {
	case errors.As(err, &partial):
		// A server of the cluster did not answer in time (it is going
		// away, or overloaded): list the members of those that did.
		c.report(s, err)
	case err != nil:
		c.report(s, err)
		return joinResult{Error: "could not list the room's members"}, nil
	}
	members := make([]string, 0, len(sockets))
	for _, rs := range sockets {
		var m Member
		if rs.Data(&m) == nil && m.Nick != "" {
			members = append(members, m.Nick)
		}
	}
	slices.Sort(members)
	return joinResult{OK: true, Members: slices.Compact(members)}, nil
}

func (c *chat) chat(ctx context.Context, s *socketio.Socket, in chatIn) (Result, error) {
	m, ok := MemberOf(s)
	if !ok {
		return Result{Error: "join a room first"}, nil
	}
	text := strings.TrimSpace(in.Text)
	if msg := checkMessage(text); msg != "" {
		return Result{Error: msg}, nil
	}
	// c.srv.To, not s.To: the sender gets its own message too.
	if err := c.srv.To(m.Room).Emit("chat", chatOut{Nick: m.Nick, Text: text, At: c.now().UnixMilli()}); err != nil {
		c.report(s, err)
		return Result{Error: "not sent"}, nil
	}
	return Result{OK: true}, nil
}

func (c *chat) typing(ctx context.Context, s *socketio.Socket, in typingIn) error {
	m, ok := MemberOf(s)
	if !ok {
		return nil
	}
	// Volatile: a typing hint that cannot be sent right now is not worth
	// queueing.
	return s.To(m.Room).Volatile().Emit("typing", typingOut{Nick: m.Nick, Typing: in.Typing})
}

func (c *chat) image(ctx context.Context, s *socketio.Socket, in imageIn) (Result, error) {
	m, ok := MemberOf(s)
	if !ok {
		return Result{Error: "join a room first"}, nil
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = "image"
	}
	if msg := checkText("file name", name, maxNameLen); msg != "" {
		return Result{Error: msg}, nil
	}
	mime := strings.ToLower(strings.TrimSpace(in.Mime))
	if !mimeRe.MatchString(mime) {
		return Result{Error: "not an image (image/* type expected)"}, nil
	}
	switch {
	case len(in.Data) == 0:
		return Result{Error: "empty image"}, nil
	case len(in.Data) > c.maxImage:
		return Result{Error: "image larger than " + formatBytes(c.maxImage)}, nil
	}
	// s.To: everyone in the room but the sender, who shows its image
	// itself rather than downloading it back.
	out := imageOut{Nick: m.Nick, Name: name, Mime: mime, Data: in.Data, At: c.now().UnixMilli()}
	if err := s.To(m.Room).Emit("image", out); err != nil {
		c.report(s, err)
		return Result{Error: "not sent"}, nil
	}
	c.log.Info("image", "socket", s, "room", m.Room, "bytes", len(in.Data))
	return Result{OK: true}, nil
}

// checkText validates a short one-line text: non-empty, at most max runes,
// valid UTF-8, no control characters. It returns "" or the problem.
func checkText(what, s string, max int) string {
	switch {
	case s == "":
		return what + " is empty"
	case !utf8.ValidString(s):
		return what + " is not valid UTF-8"
	case utf8.RuneCountInString(s) > max:
		return what + " is too long"
	case strings.ContainsFunc(s, unicode.IsControl):
		return what + " contains control characters"
	}
	return ""
}

// checkMessage validates a chat message: like checkText, but newlines and
// tabs are allowed.
func checkMessage(s string) string {
	switch {
	case s == "":
		return "message is empty"
	case !utf8.ValidString(s):
		return "message is not valid UTF-8"
	case utf8.RuneCountInString(s) > maxTextLen:
		return "message is longer than 2000 characters"
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		return "message contains control characters"
	}
	return ""
}

// formatBytes writes a size as the page does: "2 MiB", "960 KiB" or
// "1000 bytes".
func formatBytes(n int) string {
	switch {
	case n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}
