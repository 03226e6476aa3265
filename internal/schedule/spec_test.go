package schedule_test

import (
	"strings"
	"testing"
	"time"

	"quaykeeper/internal/schedule"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		spec schedule.Spec
		want string // "" = valid
	}{
		{schedule.Spec{}, ""},
		{schedule.Spec{Every: time.Hour}, ""},
		{schedule.Spec{Every: time.Second}, ""},
		{schedule.Spec{Cron: "0 3 * * *"}, ""},
		{schedule.Spec{Cron: "*/15 9-17 * * MON-FRI"}, ""},
		{schedule.Spec{Cron: "@daily"}, ""},
		{schedule.Spec{Every: time.Millisecond}, "every must be from 1s"},
		{schedule.Spec{Every: 31 * 24 * time.Hour}, "every must be from 1s"},
		{schedule.Spec{Every: time.Hour, Cron: "@daily"}, "not both"},
		{schedule.Spec{Cron: "0 3 * *"}, "has 4 fields"},
		{schedule.Spec{Cron: "0 3 * * ;"}, `field 5 (day of week)`},
		{schedule.Spec{Cron: "@sometimes"}, "unknown cron descriptor"},
	}
	for _, tt := range tests {
		t.Run(tt.spec.String(), func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDefaultsAndJitter(t *testing.T) {
	if got := (schedule.Spec{}).Normalize(); got != schedule.Default() {
		t.Fatalf("Normalize() = %v", got)
	}
	if got := (schedule.Spec{}).Jitter(); got != 30*time.Minute {
		t.Fatalf("Jitter of 6h = %v, want 30m", got)
	}
	if got := (schedule.Spec{Every: time.Minute}).Jitter(); got != 6*time.Second {
		t.Fatalf("Jitter of 1m = %v, want 6s", got)
	}
}
