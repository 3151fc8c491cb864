package queue

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the queue's Prometheus series.
type metrics struct {
	deliveries *prometheus.CounterVec
	codes      *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_deliveries_total",
			Help: "Delivery attempts of outgoing messages by this process, by channel and outcome: sent, failed (an attempt that failed), expired (a code dropped after it stopped working), discarded (a message given up).",
		}, []string{"channel", "outcome"}),
		codes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_codes_sent_total",
			Help: "Messages carrying a one-time code handed to the mail server or SMS gateway by this process, by channel.",
		}, []string{"channel"}),
	}
	// Every series exists from the start, so a rate over a failure is
	// never a rate over nothing.
	for _, ch := range []string{custos.ChannelEmail, custos.ChannelSMS} {
		for _, o := range []string{outcomeSent, outcomeFailed, outcomeExpired, outcomeDiscarded} {
			m.deliveries.WithLabelValues(ch, o)
		}
		m.codes.WithLabelValues(ch)
	}
	return m
}

func (m *metrics) count(channel, outcome string) {
	m.deliveries.WithLabelValues(channel, outcome).Inc()
}

// sent counts a message handed over; msg is what was sent.
func (m *metrics) sent(channel string, msg custos.Message) {
	m.count(channel, outcomeSent)
	if msg.Code != "" {
		m.codes.WithLabelValues(channel).Inc()
	}
}

func (m *metrics) register(reg prometheus.Registerer, q *Queue) error {
	for _, c := range []prometheus.Collector{m.deliveries, m.codes, waitingCollector{q: q}} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// waitingDesc describes custos_deliveries_waiting, oldestDesc
// custos_deliveries_oldest_waiting_seconds.
var (
	waitingDesc = prometheus.NewDesc("custos_deliveries_waiting",
		"Outgoing messages not yet delivered nor given up, in the whole database, by River job state: available (due), running, retryable (waiting for the next attempt after a failure), scheduled, pending.",
		[]string{"state"}, nil)
	oldestDesc = prometheus.NewDesc("custos_deliveries_oldest_waiting_seconds",
		"Age of the oldest outgoing message not yet delivered nor given up, in the whole database (0 when none waits).",
		nil, nil)
)

// waitingCollector counts waiting jobs, and the age of the oldest, when
// scraped.
type waitingCollector struct{ q *Queue }

func (c waitingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- waitingDesc
	ch <- oldestDesc
}

func (c waitingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	w, err := c.q.Waiting(ctx)
	if err != nil {
		// An invalid metric would fail the whole scrape; a gap in one
		// series says enough.
		c.q.cfg.Logger.Warn("counting waiting deliveries failed", "err", err)
		return
	}
	for _, s := range waitingStates {
		ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(w[s]), s)
	}
	oldest, err := c.q.oldestWaiting(ctx)
	if err != nil {
		c.q.cfg.Logger.Warn("reading the oldest waiting delivery failed", "err", err)
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		// River stamps its jobs on the real clock.
		age = max(0, time.Since(oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}

// oldestWaiting returns when the oldest message not yet delivered nor
// given up was written, or zero when none waits.
func (q *Queue) oldestWaiting(ctx context.Context) (time.Time, error) {
	var v any
	err := q.cfg.DB.QueryRowContext(ctx, "SELECT MIN(created_at) FROM river_job WHERE kind = '"+kindDeliver+
		"' AND state IN ('"+strings.Join(waitingStates, "', '")+"')").Scan(&v)
	if err != nil {
		return time.Time{}, fmt.Errorf("queue: oldest waiting job: %w", err)
	}
	switch t := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time: // PostgreSQL's timestamptz
		return t, nil
	case []byte:
		return parseSQLiteTime(string(t))
	case string: // SQLite: MIN drops the column's declared type
		return parseSQLiteTime(t)
	}
	return time.Time{}, fmt.Errorf("queue: oldest waiting job: unexpected %T", v)
}

// parseSQLiteTime reads a timestamp as River's SQLite driver writes it
// (UTC, datetime('now', 'subsec') or RFC 3339).
func parseSQLiteTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("queue: oldest waiting job: unreadable time %q", s)
}
