package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// counted is an attribute value that counts how often it is formatted.
type counted struct{ n *int }

func (c counted) LogValue() slog.Value {
	*c.n++
	return slog.StringValue("formatted")
}

func TestDerivingADebugLoggerFormatsNothingAboveDebug(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(lazyHandler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn})))
	formatted := 0
	for range 3 {
		logger.With(slog.Any("args", counted{&formatted})).Debug(">>> INSERT")
	}
	if formatted != 0 {
		t.Fatalf("attributes of a derived logger formatted %d times for records never written", formatted)
	}
	if out.Len() != 0 {
		t.Fatalf("debug records written at warn level: %q", out.String())
	}
}

func TestWrittenRecordsKeepDerivedAttributesAndGroupsInOrder(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(lazyHandler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))
	parent := logger.With("conn", "c1").WithGroup("sql")
	// Two loggers derived from one parent must not see each other's attributes.
	a := parent.With("q", "a")
	b := parent.With("q", "b")
	a.Info("first", "rows", 1)
	b.Warn("second")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out.String())
	}
	for i, want := range []string{
		`level=INFO msg=first conn=c1 sql.q=a sql.rows=1`,
		`level=WARN msg=second conn=c1 sql.q=b`,
	} {
		if !strings.HasSuffix(lines[i], want) {
			t.Errorf("line %d = %q, want it to end in %q", i, lines[i], want)
		}
	}
}
