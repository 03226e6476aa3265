package vuln_test

import (
	"testing"
	"time"

	"quaykeeper/internal/vuln"
)

func cvss(v float64) *float64 { return &v }

func TestScore(t *testing.T) {
	tests := []struct {
		name string
		f    vuln.Finding
		days int
		want float64
	}{
		{"nothing known", vuln.Finding{}, 0, 0},
		{"critical, perfect CVSS, fixed, a year old",
			vuln.Finding{Severity: vuln.Critical, CVSS: cvss(10), FixedBy: "1.1"}, 365, 100},
		{"exposure capped at a year",
			vuln.Finding{Severity: vuln.Critical, CVSS: cvss(10), FixedBy: "1.1"}, 4000, 100},
		{"high 7.8 with fix, 30 days",
			vuln.Finding{Severity: vuln.High, CVSS: cvss(7.8), FixedBy: "2.34-83"}, 30, 78.21},
		{"high 7.8 without fix, 30 days",
			vuln.Finding{Severity: vuln.High, CVSS: cvss(7.8)}, 30, 68.21},
		{"medium without CVSS, fixed, new", vuln.Finding{Severity: vuln.Medium, FixedBy: "x"},
			0, 55},
		{"negligible with CVSS 9.8 ranks low", vuln.Finding{Severity: vuln.Negligible,
			CVSS: cvss(9.8)}, 100, 26.17},
		{"half a year", vuln.Finding{Severity: vuln.Low}, 182, 32.49},
		{"negative exposure counts as none", vuln.Finding{Severity: vuln.Low}, -5, 30},
		{"out-of-range CVSS is clamped", vuln.Finding{Severity: vuln.Low, CVSS: cvss(12)},
			0, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vuln.Score(tt.f, tt.days); got != tt.want {
				t.Errorf("Score = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestScoreSeverityDominates checks the property the weights are chosen for: one step of
// severity outweighs the CVSS score, a fix or exposure alone.
func TestScoreSeverityDominates(t *testing.T) {
	for i := 1; i < len(vuln.Severities); i++ {
		higher := vuln.Score(vuln.Finding{Severity: vuln.Severities[i]}, 0)
		for _, tt := range []struct {
			what string
			f    vuln.Finding
			days int
		}{
			{"CVSS 10", vuln.Finding{CVSS: cvss(10)}, 0},
			{"a fix", vuln.Finding{FixedBy: "1.1"}, 0},
			{"a year of exposure", vuln.Finding{}, 365},
		} {
			tt.f.Severity = vuln.Severities[i-1]
			if lower := vuln.Score(tt.f, tt.days); lower >= higher {
				t.Errorf("%s with %s scores %v, %s alone %v", tt.f.Severity, tt.what, lower,
					vuln.Severities[i], higher)
			}
		}
	}
}

func TestExposureDays(t *testing.T) {
	at := time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		pushed time.Time
		want   int
	}{
		{"same instant", at, 0},
		{"just under a day", at.Add(-23*time.Hour - 59*time.Minute), 0},
		{"one day", at.Add(-24 * time.Hour), 1},
		{"a year", at.AddDate(-1, 0, 0), 365},
		{"pushed after the instant", at.Add(time.Hour), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vuln.ExposureDays(tt.pushed, at); got != tt.want {
				t.Errorf("ExposureDays = %d, want %d", got, tt.want)
			}
		})
	}
}
