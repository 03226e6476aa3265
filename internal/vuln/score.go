package vuln

import (
	"math"
	"time"
)

// Weights of the score (see the package documentation).
const (
	severityWeight = 15
	cvssWeight     = 1
	fixWeight      = 10
	exposureWeight = 5
	// exposureCap is the exposure, in days, past which a finding gains no more points.
	exposureCap = 365
)

// Score is the priority of a finding carried by images exposed for exposureDays: 0 to 100,
// higher first, rounded to two decimals.
func Score(f Finding, exposureDays int) float64 {
	s := severityWeight * float64(min(max(f.Severity, Unknown), Critical))
	if f.CVSS != nil {
		s += cvssWeight * min(max(*f.CVSS, 0), 10)
	}
	if f.Fixable() {
		s += fixWeight
	}
	s += exposureWeight * float64(min(max(exposureDays, 0), exposureCap)) / exposureCap
	return math.Round(s*100) / 100
}

// ExposureDays is the whole days from an image's first push to at; 0 for a push after at.
func ExposureDays(pushed, at time.Time) int {
	if !at.After(pushed) {
		return 0
	}
	return int(at.Sub(pushed) / (24 * time.Hour))
}
