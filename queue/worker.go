package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Outcomes of an attempt, as custos_deliveries_total counts them.
const (
	outcomeSent      = "sent"      // handed to the mail server or SMS gateway
	outcomeFailed    = "failed"    // the attempt failed (retried unless given up)
	outcomeExpired   = "expired"   // a code that had stopped working: dropped, not sent
	outcomeDiscarded = "discarded" // given up: out of attempts, or a message nobody can send
)

// maxErrorText bounds the error River records per attempt, so a day of
// retries keeps a job row small.
const maxErrorText = 300

// worker delivers deliver jobs.
type worker struct {
	river.WorkerDefaults[deliverArgs]
	q *Queue
}

// Work delivers one message. A code that has stopped working is dropped;
// a message no template can render is given up at once; any other failure
// (a message this process cannot open included) is retried on the queue's
// schedule.
func (w *worker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	q := w.q
	channel, purpose := job.Args.Channel, job.Args.Purpose
	log := q.cfg.Logger.With("job_id", job.ID, "channel", channel, "purpose", purpose,
		"attempt", job.Attempt, "max_attempts", job.MaxAttempts)
	m, err := q.open(job.Args)
	if err != nil {
		// Another replica may hold the key (a key ring being rolled out):
		// tried again like any failure, given up only at the end.
		q.metrics.count(channel, outcomeFailed)
		if job.Attempt >= job.MaxAttempts {
			q.metrics.count(channel, outcomeDiscarded)
			log.ErrorContext(ctx, "delivery given up: the message cannot be opened", "err", err)
			return err
		}
		log.WarnContext(ctx, "delivery failed: the message cannot be opened here", "err", err,
			"retry_in", q.cfg.Backoff(job.Attempt).String())
		return err
	}
	if m.Decoy {
		return nil // written only so that its answer cost what a real one does
	}
	log = log.With("to", maskTo(m.Channel, m.To))
	if !m.Expires.IsZero() && !q.cfg.Clock.Now().Before(m.Expires) {
		q.metrics.count(channel, outcomeExpired)
		log.InfoContext(ctx, "delivery dropped: the code had stopped working", "expired_at", m.Expires.UTC().Format(time.RFC3339))
		return nil
	}
	err = q.cfg.Deliver(ctx, m)
	if err == nil {
		q.metrics.sent(channel, m)
		return nil
	}
	// Transports keep codes out of their errors; this is a second guard.
	text := err.Error()
	if m.Code != "" {
		text = strings.ReplaceAll(text, m.Code, "[code]")
	}
	if len(text) > maxErrorText {
		text = text[:maxErrorText] + "…"
	}
	failure := errors.New(text)
	q.metrics.count(channel, outcomeFailed)
	permanent := custos.IsCode(err, custos.EInternal)
	switch {
	case permanent:
		q.metrics.count(channel, outcomeDiscarded)
		log.ErrorContext(ctx, "delivery given up: the message cannot be sent", "err", text)
		return river.JobCancel(failure)
	case job.Attempt >= job.MaxAttempts:
		q.metrics.count(channel, outcomeDiscarded)
		log.ErrorContext(ctx, "delivery given up: out of attempts", "err", text)
		return failure
	}
	log.WarnContext(ctx, "delivery failed", "err", text, "retry_in", q.cfg.Backoff(job.Attempt).String())
	return failure
}

// retryPolicy schedules the next attempt after a failure by the queue's
// Backoff, on River's (real) clock.
type retryPolicy struct {
	backoff func(attempt int) time.Duration
	clock   custos.Clock
}

// NextRetry is when the job is due again.
func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return p.clock.Now().Add(p.backoff(job.Attempt))
}

// maskTo is an address as a log line may show it: an email through
// custos.MaskEmail, a phone number with all but its first three and last
// two characters hidden.
func maskTo(channel, to string) string {
	if channel != custos.ChannelSMS {
		return custos.MaskEmail(to)
	}
	if len(to) <= 6 {
		return strings.Repeat("*", len(to))
	}
	return fmt.Sprintf("%s%s%s", to[:3], strings.Repeat("*", len(to)-5), to[len(to)-2:])
}
