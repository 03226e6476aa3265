package vuln

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"quaykeeper/internal/policy"
)

// ComplianceSettings are an organization's compliance policies.
type ComplianceSettings struct {
	// FixableSeverityThreshold fails an image with a finding of this severity or worse that
	// has a fix: a severity name, or "" to turn the rule off. Default High.
	FixableSeverityThreshold string `json:"fixable_severity_threshold"`
	// MaxImageAgeDays fails an image first pushed more than this many days ago: 0 (off) to
	// 3650. Default 0.
	MaxImageAgeDays int `json:"max_image_age_days"`
	// RequireLatestScanned fails a latest image whose scan status is not scanned. Default
	// true.
	RequireLatestScanned bool `json:"require_latest_scanned"`
}

// MaxImageAgeDaysLimit is the largest max_image_age_days, ten years.
const MaxImageAgeDaysLimit = 3650

// DefaultComplianceSettings returns the policies of an organization that has set none: no
// fixable finding of High or worse, no age limit, every latest image scanned.
func DefaultComplianceSettings() ComplianceSettings {
	return ComplianceSettings{FixableSeverityThreshold: High.String(),
		RequireLatestScanned: true}
}

// Validate checks the settings in field order and returns a *policy.ValidationError for the
// first problem, or nil.
func (s ComplianceSettings) Validate() error {
	if t := s.FixableSeverityThreshold; t != "" {
		sev, ok := ParseSeverity(t)
		switch {
		case ok && sev.String() != t:
			return invalid("fixable_severity_threshold", "fixable_severity_threshold %q is "+
				"spelled differently from the severity: write %q", t, sev.String())
		case !ok:
			return invalid("fixable_severity_threshold", "fixable_severity_threshold must be "+
				"one of %s, or \"\" to turn the rule off, got %q", severityList(), t)
		}
	}
	if d := s.MaxImageAgeDays; d < 0 || d > MaxImageAgeDaysLimit {
		return invalid("max_image_age_days", "max_image_age_days must be an integer from 0 "+
			"(no limit) to %d, got %d", MaxImageAgeDaysLimit, d)
	}
	return nil
}

func invalid(field, format string, args ...any) error {
	return &policy.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Rule names a compliance rule. The values are stable: they are stored and shown to users.
type Rule string

// The compliance rules, in the order they are evaluated.
const (
	RuleFixableSeverity Rule = "fixable_severity"
	RuleMaxImageAge     Rule = "max_image_age"
	RuleLatestScanned   Rule = "latest_scanned"
)

// ManifestScan is the stored scan of one manifest of an image.
type ManifestScan struct {
	Manifest string
	// Platform is "" unless the image is a manifest list.
	Platform string
	Status   string
	// Fixable are the manifest's findings that have a fix.
	Fixable []Finding
}

// ComplianceImage is what the rules judge of one image.
type ComplianceImage struct {
	Repository string
	Digest     string
	Tags       []string
	// Latest is true when one of its tags carries reason latest_image.
	Latest bool
	// Pushed is the earliest start time of its tags.
	Pushed time.Time
	// Manifests are its scans: one for an image, one per platform manifest for a list, none
	// when nothing was recorded yet.
	Manifests []ManifestScan
}

// Failure is a rule an image breaks, and why.
type Failure struct {
	Rule    Rule   `json:"rule"`
	Message string `json:"message"`
}

// Verdict is an image's compliance.
type Verdict struct {
	Repository string    `json:"repository"`
	Digest     string    `json:"manifest_digest"`
	Tags       []string  `json:"tags"`
	Latest     bool      `json:"latest"`
	Pushed     time.Time `json:"pushed"`
	// ScanStatus is scanned when every manifest is, else the first other status by
	// platform, or "none" when no scan was recorded.
	ScanStatus string    `json:"scan_status"`
	Passed     bool      `json:"passed"`
	Failures   []Failure `json:"failures"`
}

// StatusNone is the ScanStatus of an image without any recorded scan.
const StatusNone = "none"

// maxListed bounds the findings a fixable_severity message names.
const maxListed = 3

// Evaluate judges an image at instant at against valid settings.
func Evaluate(s ComplianceSettings, at time.Time, img ComplianceImage) Verdict {
	v := Verdict{Repository: img.Repository, Digest: img.Digest, Tags: img.Tags,
		Latest: img.Latest, Pushed: img.Pushed.UTC(), Failures: []Failure{}}
	manifests := slices.Clone(img.Manifests)
	slices.SortFunc(manifests, func(a, b ManifestScan) int {
		return cmp.Or(strings.Compare(a.Platform, b.Platform),
			strings.Compare(a.Manifest, b.Manifest))
	})
	status, notScanned := scanStatus(manifests)
	v.ScanStatus = status
	if threshold, ok := ParseSeverity(s.FixableSeverityThreshold); ok {
		if msg := fixableMessage(threshold, manifests); msg != "" {
			v.Failures = append(v.Failures, Failure{RuleFixableSeverity, msg})
		}
	}
	if days := ExposureDays(img.Pushed, at); s.MaxImageAgeDays > 0 && days > s.MaxImageAgeDays {
		v.Failures = append(v.Failures, Failure{RuleMaxImageAge, fmt.Sprintf(
			"first pushed %d days ago, more than the %d days allowed; rebuild and push it",
			days, s.MaxImageAgeDays)})
	}
	if s.RequireLatestScanned && img.Latest && notScanned != "" {
		v.Failures = append(v.Failures, Failure{RuleLatestScanned, notScanned})
	}
	v.Passed = len(v.Failures) == 0
	return v
}

// scanStatus aggregates the statuses of an image's manifests and, unless all are scanned,
// says why the image is not.
func scanStatus(manifests []ManifestScan) (status, why string) {
	if len(manifests) == 0 {
		return StatusNone, "a latest image without any recorded scan: the next sync " +
			"ingests it"
	}
	for _, m := range manifests {
		if m.Status == StatusScanned {
			continue
		}
		where := "a latest image"
		if m.Platform != "" {
			where = "the " + m.Platform + " manifest of a latest image"
		}
		return m.Status, fmt.Sprintf("%s is not scanned: %s", where, statusWords(m.Status))
	}
	return StatusScanned, ""
}

func statusWords(status string) string {
	switch status {
	case StatusQueued:
		return "Quay has not scanned it yet (queued)"
	case StatusFailed:
		return "Quay's scanner failed on it (failed)"
	case StatusUnsupported:
		return "Quay's scanner does not support it (unsupported)"
	case StatusLayerTooLarge:
		return "a layer is too large for Quay's scanner (manifest_layer_too_large)"
	case StatusUnavailable:
		return "Quay's scanner did not answer (unavailable)"
	case StatusNotFound:
		return "Quay has no such manifest (not_found)"
	}
	return "its report could not be read (" + status + ")"
}

// fixableMessage names the distinct findings at or above threshold that have a fix, worst
// first, or returns "" when there is none.
func fixableMessage(threshold Severity, manifests []ManifestScan) string {
	var found []Finding
	for _, m := range manifests {
		for _, f := range m.Fixable {
			if f.Severity >= threshold && f.Fixable() {
				found = append(found, f)
			}
		}
	}
	slices.SortFunc(found, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), compareFinding(a, b))
	})
	found = slices.CompactFunc(found, func(a, b Finding) bool { return compareFinding(a, b) == 0 })
	if len(found) == 0 {
		return ""
	}
	named := make([]string, 0, maxListed)
	for _, f := range found[:min(len(found), maxListed)] {
		named = append(named, fmt.Sprintf("%s in %s %s (%s, fixed in %s)", f.Vulnerability,
			f.Package, f.Version, f.Severity, f.FixedBy))
	}
	more := ""
	if len(found) > maxListed {
		more = fmt.Sprintf(" and %d more", len(found)-maxListed)
	}
	return fmt.Sprintf("%s at or above %s %s a fix: %s%s; update the packages and rebuild",
		plural(len(found), "finding"), threshold, hasHave(len(found)),
		strings.Join(named, "; "), more)
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

// RuleCounts counts the images that break each rule.
type RuleCounts struct {
	FixableSeverity int `json:"fixable_severity"`
	MaxImageAge     int `json:"max_image_age"`
	LatestScanned   int `json:"latest_scanned"`
}

// ComplianceCounts summarizes verdicts.
type ComplianceCounts struct {
	Images int        `json:"images"`
	Passed int        `json:"passed"`
	Failed int        `json:"failed"`
	ByRule RuleCounts `json:"by_rule"`
}

// Count summarizes verdicts.
func Count(verdicts []Verdict) ComplianceCounts {
	var c ComplianceCounts
	for _, v := range verdicts {
		c.Images++
		if v.Passed {
			c.Passed++
		} else {
			c.Failed++
		}
		for _, f := range v.Failures {
			switch f.Rule {
			case RuleFixableSeverity:
				c.ByRule.FixableSeverity++
			case RuleMaxImageAge:
				c.ByRule.MaxImageAge++
			case RuleLatestScanned:
				c.ByRule.LatestScanned++
			}
		}
	}
	return c
}

// Line is the one-line summary, e.g. "2 of 40 images fail compliance (fixable_severity 2,
// latest_scanned 1)" or "all 40 images pass compliance".
func (c ComplianceCounts) Line() string {
	switch {
	case c.Images == 0:
		return "no image to evaluate: the run decided to scan none"
	case c.Failed == 0 && c.Images == 1:
		return "the 1 image passes compliance"
	case c.Failed == 0:
		return fmt.Sprintf("all %d images pass compliance", c.Images)
	}
	var rules []string
	for _, r := range []struct {
		rule Rule
		n    int
	}{{RuleFixableSeverity, c.ByRule.FixableSeverity}, {RuleMaxImageAge, c.ByRule.MaxImageAge},
		{RuleLatestScanned, c.ByRule.LatestScanned}} {
		if r.n > 0 {
			rules = append(rules, fmt.Sprintf("%s %d", r.rule, r.n))
		}
	}
	verb := "fail"
	if c.Failed == 1 {
		verb = "fails"
	}
	return fmt.Sprintf("%d of %d images %s compliance (%s)", c.Failed, c.Images, verb,
		strings.Join(rules, ", "))
}

// ComplianceReport is the JSON shape of `starter compliance`: a run's stored evaluation.
type ComplianceReport struct {
	Organization string `json:"organization"`
	RunID        int64  `json:"run_id"`
	// EvaluatedAt is the run's instant, RFC 3339 UTC, which ages are measured at.
	EvaluatedAt string             `json:"evaluated_at"`
	Settings    ComplianceSettings `json:"settings"`
	Summary     ComplianceCounts   `json:"summary"`
	// Images are sorted by repository then digest.
	Images []Verdict `json:"images"`
}
