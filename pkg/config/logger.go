package config

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/ordo-platform/ordo/pkg/tracing"
)

// NewLogger returns the logger every ordo binary uses: level is debug,
// info, warn or error; format is json or text. Records logged with a
// context carry the trace, span and correlation ids found in it
// (tracing.LogHandler).
func NewLogger(out io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(tracing.LogHandler(slog.NewJSONHandler(out, opts))), nil
	case "text":
		return slog.New(tracing.LogHandler(slog.NewTextHandler(out, opts))), nil
	}
	return nil, fmt.Errorf("log-format %q: want json or text", format)
}
