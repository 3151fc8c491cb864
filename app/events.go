package app

import (
	"context"
	"log/slog"

	"github.com/custos/custos"
	"github.com/custos/custos/requestinfo"
	"github.com/custos/custos/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// securityEvents logs one line for each security event (an audit event)
// and each staff action (a staff event) once it is in the database, and
// counts them.
type securityEvents struct {
	logger *slog.Logger
	events *prometheus.CounterVec
	staff  *prometheus.CounterVec
}

// watchedEvents are counted from the start, so that an alert on their
// rate never reads a series that is not there.
var watchedEvents = []string{custos.EventLoginLocked, custos.EventLoginUnlocked, custos.EventCodeReplayed,
	custos.EventLoginSuccess, custos.EventLoginFailure, custos.EventSecondFailure}

func newSecurityEvents(logger *slog.Logger, reg prometheus.Registerer) *securityEvents {
	s := &securityEvents{
		logger: logger,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_security_events_total",
			Help: "Security events (audit events) this process wrote, by type: login.locked, login.unlocked, mfa.replay_refused, login.success, ….",
		}, []string{"type"}),
		staff: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_staff_actions_total",
			Help: "Staff actions (staff audit trail entries) this process wrote, by action.",
		}, []string{"action"}),
	}
	for _, t := range watchedEvents {
		s.events.WithLabelValues(t)
	}
	reg.MustRegister(s.events, s.staff)
	return s
}

func (s *securityEvents) observer() sqlstore.Observer {
	return sqlstore.Observer{Audit: s.audit, Staff: s.staffAction}
}

// loggedDetail are the detail keys a log line may carry: ids, kinds,
// times and reasons. The rest (names people chose, serials, masked
// addresses, document numbers) stays in the audit log.
var loggedDetail = map[string]bool{
	"locked_until": true, "by": true, "device_id": true, "type": true, "reason": true, "method": true,
	"kind": true, "ticket": true, "submission": true, "decision": true, "role": true, "step": true,
	"count": true, "collaboration": true, "sub_user": true, "session_id": true, "session": true,
	"at_login": true, "execute_at": true, "root": true, "field": true, "account": true,
}

func detailAttrs(d map[string]string) []any {
	var out []any
	for k, v := range d {
		if loggedDetail[k] {
			out = append(out, slog.String(k, v))
		}
	}
	return out
}

// audit logs and counts ev. The login identifier is left out: on a
// failed login it is whatever was typed, which may be a password put in
// the wrong field.
func (s *securityEvents) audit(ctx context.Context, ev custos.AuditEvent) {
	s.events.WithLabelValues(ev.Type).Inc()
	attrs := []slog.Attr{slog.String("event", ev.Type), slog.String("event_id", ev.ID)}
	if ev.AccountID != "" {
		attrs = append(attrs, slog.String("account_id", ev.AccountID))
	}
	if ev.RemoteAddr != "" {
		attrs = append(attrs, slog.String("client", ev.RemoteAddr))
	}
	if d := detailAttrs(ev.Detail); len(d) > 0 {
		attrs = append(attrs, slog.Group("detail", d...))
	}
	requestinfo.Logger(ctx, s.logger).LogAttrs(ctx, slog.LevelInfo, "security event", attrs...)
}

// staffAction logs and counts ev.
func (s *securityEvents) staffAction(ctx context.Context, ev custos.StaffEvent) {
	s.staff.WithLabelValues(ev.Action).Inc()
	actor := ev.StaffID
	if actor == "" {
		actor = "command line"
	}
	attrs := []slog.Attr{slog.String("action", ev.Action), slog.String("event_id", ev.ID), slog.String("staff_id", actor)}
	if ev.Target != "" {
		attrs = append(attrs, slog.String("target", ev.Target))
	}
	if ev.RemoteAddr != "" {
		attrs = append(attrs, slog.String("client", ev.RemoteAddr))
	}
	if d := detailAttrs(ev.Detail); len(d) > 0 {
		attrs = append(attrs, slog.Group("detail", d...))
	}
	requestinfo.Logger(ctx, s.logger).LogAttrs(ctx, slog.LevelInfo, "staff action", attrs...)
}

// registerPools registers the database pools' use (database/sql's
// DBStats: open, in use, idle, waits and their time) as go_sql_* series
// with a db_name label: "custos" on PostgreSQL (one pool), "writer" and
// "reader" on SQLite (its one write connection and the read pool).
func registerPools(reg prometheus.Registerer, store *sqlstore.DB) {
	if store.Reader() == store.Writer() {
		reg.MustRegister(collectors.NewDBStatsCollector(store.Writer(), "custos"))
		return
	}
	reg.MustRegister(collectors.NewDBStatsCollector(store.Writer(), "writer"),
		collectors.NewDBStatsCollector(store.Reader(), "reader"))
}
