package web

import (
	"errors"

	"github.com/custos/custos"
	"github.com/prometheus/client_golang/prometheus"
)

// newLoginCounter returns custos_logins_total, the series the API counts
// its password logins in, so that a login on the pages and one through the
// API are counted alike. It is defined as the API defines it: when the API
// has registered it with reg already, the pages count in that one.
func newLoginCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "custos_logins_total",
		Help: "Password login attempts by outcome (success, or the error code).",
	}, []string{"outcome"})
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic("web: custos_logins_total: " + err.Error())
		}
		return are.ExistingCollector.(*prometheus.CounterVec)
	}
	return c
}

// countLogin counts a password login's outcome as the API does: success,
// second_factor when another step follows, or the error's code.
func (wb *Web) countLogin(next string, err error) {
	switch {
	case err != nil:
		wb.logins.WithLabelValues(custos.ErrorCode(err)).Inc()
	case next != "":
		wb.logins.WithLabelValues("second_factor").Inc()
	default:
		wb.logins.WithLabelValues("success").Inc()
	}
}
