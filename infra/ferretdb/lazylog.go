package main

import (
	"context"
	"log/slog"
)

// lazyHandler wraps a slog.Handler so that deriving a logger costs nothing until a record
// is actually written.
//
// FerretDB 1.24 derives a logger around every SQL statement it runs, with the statement's
// arguments (for an insert, every document as JSON) as attributes, and then logs at debug
// level. slog's built-in handlers format a derived logger's attributes when it is derived,
// whatever the level, so each insert quoted its documents once more for nothing: about 40 %
// of the store's CPU during a bulk insert of victim cases (measured with the launcher's -debug
// profiles). Behind this wrapper the attributes are kept as they are and formatted only for
// records the level lets through.
//
// It passes records to base, applying the attributes and groups of derived loggers only when
// a record is handled.
func lazyHandler(base slog.Handler) slog.Handler {
	return &lazyLogHandler{base: base}
}

type lazyLogHandler struct {
	base  slog.Handler
	steps []logStep // in the order they were added
}

// logStep is either a group (name set) or attributes.
type logStep struct {
	group string
	attrs []slog.Attr
}

func (h *lazyLogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

func (h *lazyLogHandler) Handle(ctx context.Context, record slog.Record) error {
	target := h.base
	for _, s := range h.steps {
		if s.group != "" {
			target = target.WithGroup(s.group)
		} else {
			target = target.WithAttrs(s.attrs)
		}
	}
	return target.Handle(ctx, record)
}

func (h *lazyLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(logStep{attrs: attrs})
}

func (h *lazyLogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(logStep{group: name})
}

// with copies the steps, so loggers derived from one parent never share a backing array.
func (h *lazyLogHandler) with(s logStep) *lazyLogHandler {
	steps := make([]logStep, len(h.steps), len(h.steps)+1)
	copy(steps, h.steps)
	return &lazyLogHandler{base: h.base, steps: append(steps, s)}
}
