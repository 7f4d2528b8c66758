package dynamodao

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// NewSDKLogger returns a logger for the AWS SDK (aws.Config.Logger,
// dynamodb.Options.Logger) that hands its lines to l: the SDK's warnings
// at [slog.LevelWarn], its debug lines at [slog.LevelDebug], each with the
// attribute source=aws-sdk. A nil l gives a logger that discards
// everything. Without one, the SDK writes its warnings straight to standard
// error.
func NewSDKLogger(l *slog.Logger) logging.Logger {
	if l == nil {
		return logging.Nop{}
	}
	return sdkLogger{l: l, ctx: context.Background()}
}

// sdkLogger adapts a *slog.Logger to logging.Logger and
// logging.ContextLogger.
type sdkLogger struct {
	l   *slog.Logger
	ctx context.Context
}

var (
	_ logging.Logger        = sdkLogger{}
	_ logging.ContextLogger = sdkLogger{}
)

// Logf implements logging.Logger.
func (s sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	if !s.l.Enabled(s.ctx, level) {
		return
	}
	s.l.Log(s.ctx, level, fmt.Sprintf(format, v...), "source", "aws-sdk")
}

// WithContext implements logging.ContextLogger: the lines of one request
// carry its context to the handler.
func (s sdkLogger) WithContext(ctx context.Context) logging.Logger {
	return sdkLogger{l: s.l, ctx: ctx}
}
