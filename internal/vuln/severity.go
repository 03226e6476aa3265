package vuln

import (
	"fmt"
	"strings"
)

// Severity is a vulnerability's severity, ordered so that a higher value is worse.
type Severity int

// The severities, in Quay's order (util/secscan PRIORITY_LEVELS).
const (
	Unknown Severity = iota
	Negligible
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"Unknown", "Negligible", "Low", "Medium", "High", "Critical"}

// Severities lists every severity from lowest to highest.
var Severities = []Severity{Unknown, Negligible, Low, Medium, High, Critical}

// String returns Quay's name of the severity, e.g. "High".
func (s Severity) String() string {
	if s < Unknown || s > Critical {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, ignoring case. ok is false for any other string,
// which then reads as Unknown.
func ParseSeverity(name string) (s Severity, ok bool) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), true
		}
	}
	return Unknown, false
}

// MarshalText writes the severity's name, so JSON carries "High" rather than 4.
func (s Severity) MarshalText() ([]byte, error) {
	if s < Unknown || s > Critical {
		return nil, fmt.Errorf("severity %d is out of range", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a severity name, ignoring case.
func (s *Severity) UnmarshalText(b []byte) error {
	v, ok := ParseSeverity(string(b))
	if !ok {
		return fmt.Errorf("unknown severity %q: use one of %s", b, severityList())
	}
	*s = v
	return nil
}

// AtLeast returns the names of the severities at or above s, for SQL filters.
func AtLeast(s Severity) []string {
	return severityNames[max(s, Unknown):]
}

// bandOf is the severity Quay derives from a CVSS base score (get_priority_from_cvssscore),
// except that Quay's Critical band stops below 10.0 and this one includes it.
func bandOf(cvss float64) Severity {
	switch {
	case cvss <= 0:
		return Unknown
	case cvss < 4:
		return Low
	case cvss < 7:
		return Medium
	case cvss < 9:
		return High
	}
	return Critical
}

func severityList() string {
	return strings.Join(severityNames[:], ", ")
}
