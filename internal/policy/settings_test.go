package policy_test

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"testing"
	"time"

	"quaykeeper/internal/policy"
)

func TestDefaultSettings(t *testing.T) {
	got := policy.DefaultSettings()
	want := policy.Settings{TagRegex: "", AgeThresholdMonths: 6, KeepLatest: 1}
	if got != want {
		t.Fatalf("DefaultSettings() = %+v, want %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("DefaultSettings().Validate() = %v", err)
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		s    policy.Settings
	}{
		{"lowest bounds", policy.Settings{AgeThresholdMonths: 1, KeepLatest: 1}},
		{"highest bounds", policy.Settings{AgeThresholdMonths: 120, KeepLatest: 100}},
		{"regex", policy.Settings{TagRegex: `v[0-9]+\.[0-9]+`, AgeThresholdMonths: 6,
			KeepLatest: 1}},
		{"regex with flags", policy.Settings{TagRegex: `(?i)release-.*`, AgeThresholdMonths: 6,
			KeepLatest: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Validate(); err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if _, err := policy.Compile(tt.s); err != nil {
				t.Fatalf("Compile() = %v, want nil", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	const hint = " (fix the pattern; it is matched against the whole tag name, " +
		"anchored, RE2 syntax)"
	withRegex := func(re string) policy.Settings {
		s := policy.DefaultSettings()
		s.TagRegex = re
		return s
	}
	tests := []struct {
		name    string
		s       policy.Settings
		field   string
		message string
	}{
		{"age zero", policy.Settings{AgeThresholdMonths: 0, KeepLatest: 1}, "age_threshold_months",
			"age_threshold_months must be an integer from 1 to 120, got 0"},
		{"age above range", policy.Settings{AgeThresholdMonths: 121, KeepLatest: 1},
			"age_threshold_months",
			"age_threshold_months must be an integer from 1 to 120, got 121"},
		{"age negative", policy.Settings{AgeThresholdMonths: -6, KeepLatest: 1},
			"age_threshold_months",
			"age_threshold_months must be an integer from 1 to 120, got -6"},
		{"keep zero", policy.Settings{AgeThresholdMonths: 6, KeepLatest: 0}, "keep_latest",
			"keep_latest must be an integer from 1 to 100, got 0"},
		{"keep above range", policy.Settings{AgeThresholdMonths: 6, KeepLatest: 101}, "keep_latest",
			"keep_latest must be an integer from 1 to 100, got 101"},
		{"zero value reports age first", policy.Settings{}, "age_threshold_months",
			"age_threshold_months must be an integer from 1 to 120, got 0"},
		{"regex reported before ranges", policy.Settings{TagRegex: "v(1"}, "tag_regex",
			`tag regex "v(1" is invalid at position 2: missing closing ): "v(1"` + hint},
		{"unclosed group after a closed one", withRegex("(a)(b"), "tag_regex",
			`tag regex "(a)(b" is invalid at position 4: missing closing ): "(a)(b"` + hint},
		{"unexpected paren", withRegex("ab)"), "tag_regex",
			`tag regex "ab)" is invalid at position 3: unexpected ): "ab)"` + hint},
		{"error hidden by anchoring", withRegex("a)|(b"), "tag_regex",
			`tag regex "a)|(b" is invalid at position 2: unexpected ): "a)|(b"` + hint},
		{"operator repeated earlier in a valid place", withRegex("a*b(*"), "tag_regex",
			`tag regex "a*b(*" is invalid at position 5: ` +
				`missing argument to repetition operator: "*"` + hint},
		{"nested repetition", withRegex("a**"), "tag_regex",
			`tag regex "a**" is invalid at position 2: invalid nested repetition operator: "**"` +
				hint},
		{"missing bracket", withRegex("x[a-"), "tag_regex",
			`tag regex "x[a-" is invalid at position 2: missing closing ]: "[a-"` + hint},
		{"bad range", withRegex("[z-a]"), "tag_regex",
			`tag regex "[z-a]" is invalid at position 2: invalid character class range: "z-a"` +
				hint},
		{"repeat count", withRegex("x{1001}"), "tag_regex",
			`tag regex "x{1001}" is invalid at position 2: invalid repeat count: "{1001}"` + hint},
		{"escape", withRegex(`v\q`), "tag_regex",
			`tag regex "v\\q" is invalid at position 2: invalid escape sequence: "\\q"` + hint},
		{"trailing backslash", withRegex(`v\d\`), "tag_regex",
			`tag regex "v\\d\\" is invalid at position 4: ` +
				`trailing backslash at end of expression: ""` + hint},
		{"named capture after a valid one", withRegex("(?P<ok>a)(?P<!>b)"), "tag_regex",
			`tag regex "(?P<ok>a)(?P<!>b)" is invalid at position 10: ` +
				`invalid named capture: "(?P<!>"` + hint},
		{"parenthesis in a class or escaped is no group", withRegex(`[(]\((a)(`), "tag_regex",
			`tag regex "[(]\\((a)(" is invalid at position 9: missing closing ): "[(]\\((a)("` +
				hint},
		{"quoted parenthesis is no group", withRegex(`(\Q)\E`), "tag_regex",
			`tag regex "(\\Q)\\E" is invalid at position 1: missing closing ): "(\\Q)\\E"` + hint},
		{"class with a leading ] and a named class", withRegex(`[]()][[:alpha:]()](x`),
			"tag_regex", `tag regex "[]()][[:alpha:]()](x" is invalid at position 19: ` +
				`missing closing ): "[]()][[:alpha:]()](x"` + hint},
		{"negated class, escaped ] and a [: that names nothing", withRegex(`[^\]][[:a](`),
			"tag_regex", `tag regex "[^\\]][[:a](" is invalid at position 11: ` +
				`missing closing ): "[^\\]][[:a]("` + hint},
		{"position counts characters", withRegex("été("), "tag_regex",
			`tag regex "été(" is invalid at position 4: missing closing ): "été("` + hint},
		{"too long to nest too deeply", withRegex(nested(999)), "tag_regex",
			"tag regex is 1999 bytes long; keep it to 1024" + hint},
		{"one byte too long", withRegex(strings.Repeat("a", 1025)), "tag_regex",
			"tag regex is 1025 bytes long; keep it to 1024" + hint},
		{"invalid utf-8", withRegex("ab\xff"), "tag_regex",
			`tag regex "ab\xff" is invalid at position 3: invalid UTF-8: "\xff"` + hint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, err := range []error{tt.s.Validate(), compileErr(tt.s)} {
				var ve *policy.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("error %v (%T), want *policy.ValidationError", err, err)
				}
				if ve.Field != tt.field {
					t.Errorf("Field = %q, want %q", ve.Field, tt.field)
				}
				if ve.Message != tt.message || err.Error() != tt.message {
					t.Errorf("message\n got %s\nwant %s", err.Error(), tt.message)
				}
			}
		})
	}
}

// nested returns "a" inside depth capturing groups.
func nested(depth int) string {
	return strings.Repeat("(", depth) + "a" + strings.Repeat(")", depth)
}

func compileErr(s policy.Settings) error {
	p, err := policy.Compile(s)
	if (p == nil) == (err == nil) {
		return errors.New("Compile must return exactly one of a policy and an error")
	}
	return err
}

func TestCutoff(t *testing.T) {
	utc := func(y int, m time.Month, d, h int) time.Time {
		return time.Date(y, m, d, h, 0, 0, 0, time.UTC)
	}
	tests := []struct {
		name   string
		months int
		at     time.Time
		want   time.Time
	}{
		{"month end normalizes forward", 6, utc(2026, 8, 31, 12), utc(2026, 3, 3, 12)},
		{"one month from March 31", 1, utc(2026, 3, 31, 0), utc(2026, 3, 3, 0)},
		{"leap day a year back", 12, utc(2024, 2, 29, 0), utc(2023, 3, 1, 0)},
		{"ten years", 120, utc(2026, 1, 15, 8), utc(2016, 1, 15, 8)},
		{"computed in UTC", 6, time.Date(2026, 9, 1, 1, 0, 0, 0, time.FixedZone("UTC+2", 2*3600)),
			utc(2026, 3, 3, 23)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policy.Compile(policy.Settings{AgeThresholdMonths: tt.months, KeepLatest: 1})
			if err != nil {
				t.Fatal(err)
			}
			got := p.Cutoff(tt.at)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Fatalf("Cutoff(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

var positionRE = regexp.MustCompile(`^tag regex ".*" is invalid at position ([0-9]+): `)

// FuzzValidate checks that any pattern is accepted exactly when it compiles anchored, and
// that a reported position points at the offending text.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"v(1", "(a)(b", `[(]\((a)(`, "a*b(*", "ab)", `\Q(`, "x[a-", "été("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		if pattern == "" {
			return
		}
		err := policy.Settings{TagRegex: pattern, AgeThresholdMonths: 6, KeepLatest: 1}.Validate()
		_, rawErr := syntax.Parse(pattern, syntax.Perl)
		_, anchoredErr := regexp.Compile(`^(?:` + pattern + `)$`)
		if (err == nil) != (rawErr == nil && anchoredErr == nil) {
			t.Fatalf("Validate(%q) = %v, parse %v, anchored %v", pattern, err, rawErr, anchoredErr)
		}
		var se *syntax.Error
		if err == nil || !errors.As(rawErr, &se) {
			return
		}
		var ve *policy.ValidationError
		if !errors.As(err, &ve) || ve.Field != "tag_regex" {
			t.Fatalf("Validate(%q) = %#v", pattern, err)
		}
		m := positionRE.FindStringSubmatch(ve.Message)
		if m == nil {
			return
		}
		pos, _ := strconv.Atoi(m[1])
		offset := -1
		for i := range pattern {
			if pos--; pos == 0 {
				offset = i
				break
			}
		}
		if offset < 0 {
			t.Fatalf("%q: position past the end in %s", pattern, ve.Message)
		}
		at := pattern[offset:]
		want := se.Expr
		switch se.Code {
		case syntax.ErrMissingParen:
			want = "("
		case syntax.ErrUnexpectedParen:
			want = ")"
		case syntax.ErrTrailingBackslash:
			want = `\`
		}
		if !strings.HasPrefix(at, want) {
			t.Fatalf("%q: %s points at %q, want %q", pattern, ve.Message, at, want)
		}
	})
}
