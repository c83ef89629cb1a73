// Package lazylog gives loggers that carry attributes, like
// [slog.Logger.With], at almost no cost until they log.
//
// A server keeps a logger per connection, with the connection's ids as
// attributes. slog.Logger.With has the handler format them at once: a
// text or JSON handler copies its state and the formatted attributes,
// some 350 bytes per logger, about a kilobyte per idle Socket.IO
// connection (session, client and socket). Most connections never log at
// an enabled level. With only records the attributes and has the handler
// take them the first time a record is handled, with the same output.
package lazylog

import (
	"context"
	"log/slog"
	"sync"
)

// With returns a logger whose records carry attrs, as l.With would give
// them, formatted by l's handler only when the logger first handles a
// record (or derives a logger with attributes or a group of its own).
// Checks of the level cost what they cost on l.
func With(l *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	return slog.New(&handler{base: l.Handler(), attrs: attrs})
}

type handler struct {
	base  slog.Handler
	once  sync.Once
	attrs []slog.Attr  // until once has run
	with  slog.Handler // base with attrs, once it has run
}

func (h *handler) handler() slog.Handler {
	h.once.Do(func() {
		h.with = h.base.WithAttrs(h.attrs)
		h.attrs = nil
	})
	return h.with
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	return h.handler().Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.handler().WithAttrs(attrs)
}

func (h *handler) WithGroup(name string) slog.Handler {
	return h.handler().WithGroup(name)
}
