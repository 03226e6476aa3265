// Package schedule describes when an organization's syncs run: every fixed interval (with
// jitter) or on a cron expression. The starter and the connection workflow validate a spec
// with the same code.
package schedule

import (
	"fmt"
	"strings"
	"time"
)

// Bounds of an interval schedule.
const (
	DefaultEvery = 6 * time.Hour
	MinEvery     = time.Second
	MaxEvery     = 30 * 24 * time.Hour
)

// Spec is when syncs run. Exactly one of Every and Cron is set; the zero Spec means the
// default interval.
type Spec struct {
	Every time.Duration `json:"every,omitempty"`
	Cron  string        `json:"cron,omitempty"`
}

// Default is every six hours.
func Default() Spec { return Spec{Every: DefaultEvery} }

// Normalize returns the spec with the default filled in.
func (s Spec) Normalize() Spec {
	if s.Every == 0 && s.Cron == "" {
		return Default()
	}
	return s
}

// Jitter spreads interval syncs of many organizations: a tenth of the interval, at most 30
// minutes.
func (s Spec) Jitter() time.Duration {
	return min(s.Normalize().Every/10, 30*time.Minute)
}

// String describes the spec for people: "every 6h0m0s" or "cron 0 3 * * *".
func (s Spec) String() string {
	s = s.Normalize()
	if s.Cron != "" {
		return "cron " + s.Cron
	}
	return "every " + s.Every.String()
}

// Validate returns an error that says what is wrong with the spec and how to fix it.
func (s Spec) Validate() error {
	switch {
	case s.Every != 0 && s.Cron != "":
		return fmt.Errorf("schedule: give either --every or --cron, not both")
	case s.Cron != "":
		return validateCron(s.Cron)
	case s.Every != 0 && (s.Every < MinEvery || s.Every > MaxEvery):
		return fmt.Errorf("schedule: every must be from %s to %s, got %s", MinEvery, MaxEvery,
			s.Every)
	}
	return nil
}

var cronFields = []string{"minute", "hour", "day of month", "month", "day of week"}

// validateCron checks the shape of a five-field cron expression (or an @-descriptor); the
// Temporal server checks the values when the schedule is created.
func validateCron(expr string) error {
	if strings.HasPrefix(expr, "@") {
		switch expr {
		case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
			return nil
		}
		if strings.HasPrefix(expr, "@every ") {
			return nil
		}
		return fmt.Errorf("schedule: unknown cron descriptor %q; use @hourly, @daily, @weekly, "+
			"@monthly, @yearly or five fields such as \"0 3 * * *\"", expr)
	}
	fields := strings.Fields(expr)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("schedule: cron expression %q has %d fields; want 5 (minute hour "+
			"day-of-month month day-of-week), e.g. \"0 3 * * *\"", expr, len(fields))
	}
	for i, f := range fields {
		for _, r := range f {
			if !strings.ContainsRune("0123456789*,/-?ABCDEFGHIJKLMNOPQRSTUVWXYZ"+
				"abcdefghijklmnopqrstuvwxyz", r) {
				return fmt.Errorf("schedule: cron field %d (%s) %q has the character %q; use "+
					"numbers, names, *, ranges a-b, lists a,b and steps */n", i+1,
					cronFields[i], f, r)
			}
		}
	}
	return nil
}
