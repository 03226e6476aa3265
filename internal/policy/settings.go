package policy

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"sync"
	"time"
)

// Settings are an organization's retention settings.
type Settings struct {
	// TagRegex is an RE2 pattern that must match the whole tag name; empty means none.
	TagRegex string `json:"tag_regex"`
	// AgeThresholdMonths is how many calendar months back the cutoff lies: 1..120, default 6.
	AgeThresholdMonths int `json:"age_threshold_months"`
	// KeepLatest is how many distinct most recent image created times count as latest:
	// 1..100, default 1.
	KeepLatest int `json:"keep_latest"`
}

// Bounds and defaults of the settings.
const (
	minAgeThresholdMonths     = 1
	maxAgeThresholdMonths     = 120
	defaultAgeThresholdMonths = 6
	minKeepLatest             = 1
	maxKeepLatest             = 100
	defaultKeepLatest         = 1
)

// DefaultSettings returns the settings of an organization that has set none: no tag regex,
// a 6 month threshold and keep_latest 1.
func DefaultSettings() Settings {
	return Settings{AgeThresholdMonths: defaultAgeThresholdMonths, KeepLatest: defaultKeepLatest}
}

// ValidationError is a setting that is out of range or does not parse.
type ValidationError struct {
	// Field is the JSON name of the setting, e.g. "tag_regex".
	Field string
	// Message names the problem and how to fix it; it is the whole error text.
	Message string
}

// Error returns the message.
func (e *ValidationError) Error() string { return e.Message }

// Validate checks the settings in field order and returns a *ValidationError for the first
// problem, or nil.
func (s Settings) Validate() error {
	_, err := s.compile()
	return err
}

// MaxTagRegexLength bounds a tag regex: one that long is a mistake, and it travels in
// signals, workflow history and every run's settings snapshot.
const MaxTagRegexLength = 1024

// compile validates the settings and returns the anchored tag regex, nil if none is set.
func (s Settings) compile() (*regexp.Regexp, error) {
	re, err := compileTagRegex(s.TagRegex)
	if err != nil {
		return nil, err
	}
	if s.AgeThresholdMonths < minAgeThresholdMonths ||
		s.AgeThresholdMonths > maxAgeThresholdMonths {
		return nil, rangeError("age_threshold_months", minAgeThresholdMonths,
			maxAgeThresholdMonths, s.AgeThresholdMonths)
	}
	if s.KeepLatest < minKeepLatest || s.KeepLatest > maxKeepLatest {
		return nil, rangeError("keep_latest", minKeepLatest, maxKeepLatest, s.KeepLatest)
	}
	return re, nil
}

func rangeError(field string, lo, hi, got int) error {
	return &ValidationError{
		Field:   field,
		Message: fmt.Sprintf("%s must be an integer from %d to %d, got %d", field, lo, hi, got),
	}
}

const regexHint = "fix the pattern; it is matched against the whole tag name, anchored, RE2 syntax"

// compileTagRegex parses the pattern as written first, because anchoring could hide an
// error ("a)|(b" is invalid, "^(?:a)|(b)$" is not) and would shift the position.
func compileTagRegex(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, nil
	}
	if len(pattern) > MaxTagRegexLength {
		return nil, &ValidationError{Field: "tag_regex", Message: fmt.Sprintf(
			"tag regex is %d bytes long; keep it to %d (%s)", len(pattern), MaxTagRegexLength,
			regexHint)}
	}
	if _, err := syntax.Parse(pattern, syntax.Perl); err != nil {
		return nil, &ValidationError{Field: "tag_regex", Message: fmt.Sprintf(
			"tag regex %q is invalid%s (%s)", pattern, describeParseError(pattern, err), regexHint)}
	}
	anchored := `^(?:` + pattern + `)$`
	re, err := regexp.Compile(anchored)
	if err != nil {
		// Anchoring adds a level of nesting to a pattern that may be at the limit already.
		return nil, &ValidationError{Field: "tag_regex", Message: fmt.Sprintf(
			"tag regex %q is invalid once anchored as ^(?:...)$%s (%s)",
			pattern, describeParseError(anchored, err), regexHint)}
	}
	return re, nil
}

// Policy is a validated, compiled set of settings. It is safe for concurrent use.
type Policy struct {
	months int
	keep   int
	// re is nil when no tag regex is set.
	re *regexp.Regexp
	// scratch holds per-call working memory so that evaluating a repository allocates only
	// its results.
	scratch sync.Pool
}

// Compile validates the settings and prepares them for evaluation. The tag regex is compiled
// once, anchored as ^(?:re)$ so that it must match the whole tag name.
func Compile(s Settings) (*Policy, error) {
	re, err := s.compile()
	if err != nil {
		return nil, err
	}
	p := &Policy{months: s.AgeThresholdMonths, keep: s.KeepLatest, re: re}
	p.scratch.New = func() any { return newScratch() }
	return p, nil
}

// Cutoff returns at shifted back AgeThresholdMonths calendar months, in UTC, with
// time.AddDate's normalization: 2026-08-31 minus 6 months is 2026-03-03.
func (p *Policy) Cutoff(at time.Time) time.Time {
	return at.UTC().AddDate(0, -p.months, 0)
}
