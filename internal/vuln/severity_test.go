package vuln_test

import (
	"encoding/json"
	"slices"
	"testing"

	"quaykeeper/internal/vuln"
)

func TestSeverityOrder(t *testing.T) {
	want := []string{"Unknown", "Negligible", "Low", "Medium", "High", "Critical"}
	var got []string
	for i, s := range vuln.Severities {
		got = append(got, s.String())
		if i > 0 && !(vuln.Severities[i-1] < s) {
			t.Errorf("%s is not above %s", s, vuln.Severities[i-1])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("severities %v, want %v", got, want)
	}
}

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		in   string
		want vuln.Severity
		ok   bool
	}{
		{"Critical", vuln.Critical, true},
		{"High", vuln.High, true},
		{"medium", vuln.Medium, true},
		{"LOW", vuln.Low, true},
		{"Negligible", vuln.Negligible, true},
		{"Unknown", vuln.Unknown, true},
		{"", vuln.Unknown, false},
		{"Important", vuln.Unknown, false},
		{" High", vuln.Unknown, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := vuln.ParseSeverity(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseSeverity(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want,
					tt.ok)
			}
		})
	}
}

func TestSeverityJSON(t *testing.T) {
	b, err := json.Marshal(map[string]vuln.Severity{"s": vuln.High})
	if err != nil || string(b) != `{"s":"High"}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var s vuln.Severity
	if err := json.Unmarshal([]byte(`"critical"`), &s); err != nil || s != vuln.Critical {
		t.Errorf("unmarshal critical: %v, %v", s, err)
	}
	err = json.Unmarshal([]byte(`"severe"`), &s)
	if err == nil || err.Error() != `unknown severity "severe": use one of Unknown, `+
		`Negligible, Low, Medium, High, Critical` {
		t.Errorf("unmarshal severe: %v", err)
	}
	if _, err := json.Marshal(vuln.Severity(9)); err == nil {
		t.Error("an out-of-range severity marshalled")
	}
}

func TestAtLeast(t *testing.T) {
	if got := vuln.AtLeast(vuln.High); !slices.Equal(got, []string{"High", "Critical"}) {
		t.Errorf("AtLeast(High) = %v", got)
	}
	if got := vuln.AtLeast(vuln.Unknown); len(got) != 6 {
		t.Errorf("AtLeast(Unknown) = %v", got)
	}
}
