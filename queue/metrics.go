package queue

import (
	"context"
	"time"

	"github.com/custos/custos"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the queue's Prometheus series.
type metrics struct {
	deliveries *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "custos_deliveries_total",
		Help: "Delivery attempts of outgoing messages by this process, by channel and outcome: sent, failed (an attempt that failed), expired (a code dropped after it stopped working), discarded (a message given up).",
	}, []string{"channel", "outcome"})}
	// Every series exists from the start, so a rate over a failure is
	// never a rate over nothing.
	for _, ch := range []string{custos.ChannelEmail, custos.ChannelSMS} {
		for _, o := range []string{outcomeSent, outcomeFailed, outcomeExpired, outcomeDiscarded} {
			m.deliveries.WithLabelValues(ch, o)
		}
	}
	return m
}

func (m *metrics) count(channel, outcome string) {
	m.deliveries.WithLabelValues(channel, outcome).Inc()
}

func (m *metrics) register(reg prometheus.Registerer, q *Queue) error {
	if err := reg.Register(m.deliveries); err != nil {
		return err
	}
	return reg.Register(waitingCollector{q: q})
}

// waitingDesc describes custos_deliveries_waiting.
var waitingDesc = prometheus.NewDesc("custos_deliveries_waiting",
	"Outgoing messages not yet delivered nor given up, in the whole database, by River job state: available (due), running, retryable (waiting for the next attempt after a failure), scheduled, pending.",
	[]string{"state"}, nil)

// waitingCollector counts waiting jobs when scraped.
type waitingCollector struct{ q *Queue }

func (c waitingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- waitingDesc }

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
}
