package notify

import (
	"context"
	"log/slog"
	"strings"

	"github.com/custos/custos"
)

// Log is a transport that delivers nothing: it logs that a message would
// have gone out (channel, masked recipient, purpose, subject) at Info. It
// never logs the code or the text, so with it nobody can complete a flow
// that needs a code; use Dir for that. The zero value logs to
// slog.Default().
type Log struct {
	// Logger receives the records; nil means slog.Default().
	Logger *slog.Logger
}

var _ Transport = (*Log)(nil)

// Deliver logs r without its code or text. It never fails.
func (l *Log) Deliver(ctx context.Context, r Rendered) error {
	logger := l.Logger
	if logger == nil {
		logger = slog.Default()
	}
	attrs := []slog.Attr{
		slog.String("channel", r.Channel),
		slog.String("to", maskRecipient(r.Channel, r.To)),
		slog.String("purpose", r.Purpose),
	}
	if r.Subject != "" {
		attrs = append(attrs, slog.String("subject", r.Subject))
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "notify: message not delivered (log transport)", attrs...)
	return nil
}

// maskRecipient keeps enough of an address to tell messages apart: the
// email as custos.MaskEmail shows it, the last 4 digits of a phone
// number.
func maskRecipient(channel, to string) string {
	if channel == custos.ChannelSMS {
		var digits []byte
		for i := 0; i < len(to); i++ {
			if to[i] >= '0' && to[i] <= '9' {
				digits = append(digits, to[i])
			}
		}
		if len(digits) <= 4 {
			return "***"
		}
		return "***" + string(digits[len(digits)-4:])
	}
	at := strings.LastIndexByte(to, '@')
	if at <= 0 || at == len(to)-1 {
		return "***"
	}
	return custos.MaskEmail(to)
}
