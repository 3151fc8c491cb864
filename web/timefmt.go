package web

import (
	"time"

	"github.com/custos/custos/message"
)

// formatTime is the one way the pages show an instant to people: in the
// viewer's zone, in the language's one date format, with the UTC time
// beside it ("1 Dec 2026, 18:20 CST (10:20 UTC)"; the UTC date too when it
// is another day). In UTC itself it is said once ("1 Dec 2026, 10:20
// UTC"). A zero time is "none". Every template reaches it: page.When with
// the viewer's zone, the when function with UTC (pages before sign-in,
// the staff console).
func formatTime(cat message.Catalogue, loc *time.Location, t time.Time) string {
	if t.IsZero() {
		return cat.Text("none")
	}
	if loc == nil {
		loc = time.UTC
	}
	layout := cat.Text("timefmt.datetime")
	u := t.UTC()
	local := t.In(loc)
	if _, off := local.Zone(); off == 0 && (loc == time.UTC || loc.String() == "UTC") {
		return u.Format(layout)
	}
	utc := u.Format(cat.Text("timefmt.time"))
	if ly, lm, ld := local.Date(); ly != u.Year() || lm != u.Month() || ld != u.Day() {
		utc = u.Format(cat.Text("timefmt.datetime_utc"))
	}
	return cat.Text("timefmt.local_utc", local.Format(layout), utc)
}

// formatDay is the one way the pages show a calendar day: the day the
// instant falls on in the viewer's zone.
func formatDay(cat message.Catalogue, loc *time.Location, t time.Time) string {
	if t.IsZero() {
		return cat.Text("none")
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(cat.Text("format.date"))
}

// When shows t in the viewer's zone with UTC beside it (formatTime).
func (p page) When(t time.Time) string { return formatTime(message.For(p.Lang), p.Zone, t) }

// Day shows the day t falls on in the viewer's zone (formatDay).
func (p page) Day(t time.Time) string { return formatDay(message.For(p.Lang), p.Zone, t) }

// ZoneName is the viewer's zone as the pages name it ("UTC" when none).
func (p page) ZoneName() string {
	if p.Zone == nil {
		return "UTC"
	}
	return p.Zone.String()
}
