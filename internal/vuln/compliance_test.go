package vuln_test

import (
	"errors"
	"reflect"
	"testing"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/vuln"
)

func TestComplianceSettingsValidate(t *testing.T) {
	def := vuln.DefaultComplianceSettings()
	if def != (vuln.ComplianceSettings{FixableSeverityThreshold: "High",
		RequireLatestScanned: true}) {
		t.Errorf("defaults %+v", def)
	}
	tests := []struct {
		name  string
		s     vuln.ComplianceSettings
		field string
		want  string
	}{
		{"defaults", def, "", ""},
		{"rules off", vuln.ComplianceSettings{}, "", ""},
		{"every severity", vuln.ComplianceSettings{FixableSeverityThreshold: "Unknown",
			MaxImageAgeDays: 3650}, "", ""},
		{"lowercase", vuln.ComplianceSettings{FixableSeverityThreshold: "high"},
			"fixable_severity_threshold", `fixable_severity_threshold "high" is spelled ` +
				`differently from the severity: write "High"`},
		{"unknown word", vuln.ComplianceSettings{FixableSeverityThreshold: "Important"},
			"fixable_severity_threshold", `fixable_severity_threshold must be one of ` +
				`Unknown, Negligible, Low, Medium, High, Critical, or "" to turn the rule ` +
				`off, got "Important"`},
		{"negative age", vuln.ComplianceSettings{MaxImageAgeDays: -1}, "max_image_age_days",
			"max_image_age_days must be an integer from 0 (no limit) to 3650, got -1"},
		{"age too large", vuln.ComplianceSettings{MaxImageAgeDays: 3651},
			"max_image_age_days",
			"max_image_age_days must be an integer from 0 (no limit) to 3650, got 3651"},
		{"threshold reported first", vuln.ComplianceSettings{FixableSeverityThreshold: "x",
			MaxImageAgeDays: -1}, "fixable_severity_threshold", "fixable_severity_threshold " +
			`must be one of Unknown, Negligible, Low, Medium, High, Critical, or "" to turn ` +
			`the rule off, got "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			var ve *policy.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field || ve.Error() != tt.want {
				t.Errorf("Validate() = %#v\nwant field %s: %s", err, tt.field, tt.want)
			}
		})
	}
}

func fixable(name string, sev vuln.Severity) vuln.Finding {
	return vuln.Finding{Vulnerability: name, Severity: sev, Package: "glibc",
		Version: "2.34-60.el9", FixedBy: "2.34-83.el9.7"}
}

func TestEvaluate(t *testing.T) {
	scanned := func(platform string, fs ...vuln.Finding) vuln.ManifestScan {
		return vuln.ManifestScan{Manifest: "sha256:m-" + platform, Platform: platform,
			Status: vuln.StatusScanned, Fixable: fs}
	}
	strict := vuln.ComplianceSettings{FixableSeverityThreshold: "High", MaxImageAgeDays: 90,
		RequireLatestScanned: true}
	tests := []struct {
		name      string
		s         vuln.ComplianceSettings
		latest    bool
		ageDays   int
		manifests []vuln.ManifestScan
		status    string
		want      []string // rule: message
	}{
		{name: "clean", s: strict, latest: true, ageDays: 10,
			manifests: []vuln.ManifestScan{scanned("", fixable("CVE-1", vuln.Medium))},
			status:    vuln.StatusScanned},
		{name: "fixable high", s: strict, ageDays: 10,
			manifests: []vuln.ManifestScan{scanned("", fixable("CVE-2023-4911", vuln.High))},
			status:    vuln.StatusScanned, want: []string{"fixable_severity: 1 finding at or " +
				"above High has a fix: CVE-2023-4911 in glibc 2.34-60.el9 (High, fixed in " +
				"2.34-83.el9.7); update the packages and rebuild"}},
		{name: "fixable listed worst first, merged across platforms, capped", s: strict,
			ageDays: 10, manifests: []vuln.ManifestScan{
				scanned("linux/amd64", fixable("CVE-A", vuln.High), fixable("CVE-B", vuln.High)),
				scanned("linux/arm64", fixable("CVE-A", vuln.High),
					fixable("CVE-C", vuln.Critical), fixable("CVE-D", vuln.High),
					fixable("CVE-E", vuln.Low))},
			status: vuln.StatusScanned, want: []string{"fixable_severity: 4 findings at or " +
				"above High have a fix: CVE-C in glibc 2.34-60.el9 (Critical, fixed in " +
				"2.34-83.el9.7); CVE-A in glibc 2.34-60.el9 (High, fixed in 2.34-83.el9.7); " +
				"CVE-B in glibc 2.34-60.el9 (High, fixed in 2.34-83.el9.7) and 1 more; " +
				"update the packages and rebuild"}},
		{name: "a finding without a fix never fails", s: strict, ageDays: 10,
			manifests: []vuln.ManifestScan{scanned("", vuln.Finding{Vulnerability: "CVE-X",
				Severity: vuln.Critical})}, status: vuln.StatusScanned},
		{name: "too old", s: strict, ageDays: 91, manifests: []vuln.ManifestScan{scanned("")},
			status: vuln.StatusScanned, want: []string{"max_image_age: first pushed 91 days " +
				"ago, more than the 90 days allowed; rebuild and push it"}},
		{name: "exactly the age limit", s: strict, ageDays: 90,
			manifests: []vuln.ManifestScan{scanned("")}, status: vuln.StatusScanned},
		{name: "latest queued", s: strict, latest: true, ageDays: 1,
			manifests: []vuln.ManifestScan{{Manifest: "sha256:m", Status: vuln.StatusQueued}},
			status:    vuln.StatusQueued, want: []string{"latest_scanned: a latest image is " +
				"not scanned: Quay has not scanned it yet (queued)"}},
		{name: "one platform of a latest list failed", s: strict, latest: true, ageDays: 1,
			manifests: []vuln.ManifestScan{scanned("linux/arm64"), scanned("linux/amd64"),
				{Manifest: "sha256:s", Platform: "linux/s390x", Status: vuln.StatusFailed}},
			status: vuln.StatusFailed, want: []string{"latest_scanned: the linux/s390x " +
				"manifest of a latest image is not scanned: Quay's scanner failed on it " +
				"(failed)"}},
		{name: "latest without any scan", s: strict, latest: true, ageDays: 1,
			status: vuln.StatusNone, want: []string{"latest_scanned: a latest image without " +
				"any recorded scan: the next sync ingests it"}},
		{name: "unscanned image that is not latest passes", s: strict, ageDays: 1,
			manifests: []vuln.ManifestScan{{Manifest: "sha256:m", Status: vuln.StatusUnsupported}},
			status:    vuln.StatusUnsupported},
		{name: "every rule", s: strict, latest: true, ageDays: 200,
			manifests: []vuln.ManifestScan{
				scanned("linux/amd64", fixable("CVE-1", vuln.Critical)),
				{Manifest: "sha256:x", Platform: "linux/arm64", Status: vuln.StatusUnavailable}},
			status: vuln.StatusUnavailable, want: []string{
				"fixable_severity: 1 finding at or above High has a fix: CVE-1 in glibc " +
					"2.34-60.el9 (Critical, fixed in 2.34-83.el9.7); update the packages and " +
					"rebuild",
				"max_image_age: first pushed 200 days ago, more than the 90 days allowed; " +
					"rebuild and push it",
				"latest_scanned: the linux/arm64 manifest of a latest image is not scanned: " +
					"Quay's scanner did not answer (unavailable)"}},
		{name: "rules off", s: vuln.ComplianceSettings{}, latest: true, ageDays: 5000,
			manifests: []vuln.ManifestScan{{Manifest: "sha256:x", Status: vuln.StatusFailed,
				Fixable: []vuln.Finding{fixable("CVE-1", vuln.Critical)}}},
			status: vuln.StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := vuln.ComplianceImage{Repository: "api", Digest: "sha256:d",
				Tags: []string{"latest"}, Latest: tt.latest,
				Pushed: at.AddDate(0, 0, -tt.ageDays), Manifests: tt.manifests}
			v := vuln.Evaluate(tt.s, at, img)
			got := []string{}
			for _, f := range v.Failures {
				got = append(got, string(f.Rule)+": "+f.Message)
			}
			if tt.want == nil {
				tt.want = []string{}
			}
			if !reflect.DeepEqual(got, tt.want) || v.Passed != (len(tt.want) == 0) ||
				v.ScanStatus != tt.status {
				t.Errorf("verdict %s passed=%v\n%q\nwant %s\n%q", v.ScanStatus, v.Passed, got,
					tt.status, tt.want)
			}
			if v.Repository != "api" || v.Digest != "sha256:d" || !v.Pushed.Equal(img.Pushed) {
				t.Errorf("verdict lost the image: %+v", v)
			}
		})
	}
}

func TestCountAndLine(t *testing.T) {
	pass := vuln.Verdict{Passed: true}
	fail := func(rules ...vuln.Rule) vuln.Verdict {
		v := vuln.Verdict{}
		for _, r := range rules {
			v.Failures = append(v.Failures, vuln.Failure{Rule: r})
		}
		return v
	}
	tests := []struct {
		verdicts []vuln.Verdict
		want     string
	}{
		{nil, "no image to evaluate: the run decided to scan none"},
		{[]vuln.Verdict{pass}, "the 1 image passes compliance"},
		{[]vuln.Verdict{pass, pass}, "all 2 images pass compliance"},
		{[]vuln.Verdict{pass, fail(vuln.RuleLatestScanned)},
			"1 of 2 images fails compliance (latest_scanned 1)"},
		{[]vuln.Verdict{fail(vuln.RuleFixableSeverity, vuln.RuleMaxImageAge),
			fail(vuln.RuleFixableSeverity), pass},
			"2 of 3 images fail compliance (fixable_severity 2, max_image_age 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			c := vuln.Count(tt.verdicts)
			if got := c.Line(); got != tt.want {
				t.Errorf("Line() = %q, want %q", got, tt.want)
			}
			if c.Images != len(tt.verdicts) || c.Passed+c.Failed != c.Images {
				t.Errorf("counts %+v", c)
			}
		})
	}
}
