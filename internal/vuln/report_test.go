package vuln_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"quaykeeper/internal/quay"
	"quaykeeper/internal/vuln"
)

// fetch serves body with status from a test server and reads it with the real Quay client,
// so these tests parse bodies as they come over the wire.
func fetch(t *testing.T, status int, body string) (quay.SecurityReport, error) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := quay.New(quay.Config{Host: srv.URL, Token: "test-token", AllowHTTP: true,
		MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c.Security(context.Background(), "acme", "team/app", "sha256:5b0be1")
}

// vulnJSON is one vulnerability as Quay sends it; score is a JSON number or "".
func vulnJSON(name, severity, score, fixedBy, link string) string {
	vector := `"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H"`
	if score == `""` {
		vector = `""`
	}
	return fmt.Sprintf(`{"Severity": %q, "NamespaceName": "RHEL8-rhel-8-including-unpatched",
		"Link": %q, "FixedBy": %q, "Description": "d", "Name": %q,
		"Metadata": {"UpdatedBy": "RHEL8-rhel-8-including-unpatched",
			"RepoName": "cpe:/o:redhat:enterprise_linux:8::baseos", "RepoLink": null,
			"DistroName": "Red Hat Enterprise Linux Server", "DistroVersion": "8",
			"NVD": {"CVSSv3": {"Vectors": %s, "Score": %s}}}}`,
		severity, link, fixedBy, name, vector, score)
}

func featureJSON(name, version string, vulns ...string) string {
	return fmt.Sprintf(`{"Name": %q, "VersionFormat": "", "NamespaceName": "",
		"AddedBy": "sha256:1e3f", "Version": %q, "BaseScores": [], "CVEIds": [],
		"Vulnerabilities": [%s]}`, name, version, strings.Join(vulns, ","))
}

func scannedJSON(features ...string) string {
	return `{"status": "scanned", "data": {"Layer": {"Name": "sha256:5b0be1",
		"ParentName": "", "NamespaceName": "", "IndexedByVersion": 4,
		"Features": [` + strings.Join(features, ",") + `]}}}`
}

const rh = "https://access.redhat.com/security/cve/"

func TestFromReportScanned(t *testing.T) {
	body := scannedJSON(
		featureJSON("openssl-libs", "1:1.1.1k-7.el8_6",
			vulnJSON("CVE-2023-0286", "High", "7.4", "1:1.1.1k-9.el8_7",
				rh+"CVE-2023-0286 https://access.redhat.com/errata/RHSA-2023:1405"),
			vulnJSON("CVE-2023-0215", "Medium", "7.5", "1:1.1.1k-9.el8_7", rh+"CVE-2023-0215"),
			vulnJSON("CVE-2023-0215", "Medium", "7.5", "1:1.1.1k-9.el8_7", rh+"CVE-2023-0215")),
		featureJSON("bash", "4.4.20-4.el8_6"),
		featureJSON("busybox", "1.36.1-r15",
			vulnJSON("CVE-2023-42363", "Unknown", "5.5", "1.36.1-r16", ""),
			vulnJSON("CVE-2023-45853", "Unknown", "10.0", "1.3.1-r0", ""),
			vulnJSON("CVE-2024-2511", "Unknown", `""`, "", "")),
		featureJSON("urllib3", "1.26.5",
			vulnJSON("pyup.io-61601 (CVE-2023-43804)", "High", "8.1", "1.26.17",
				"https://pyup.io/v/61601/f17/")),
		featureJSON("glibc", "2.28-211.el8",
			vulnJSON("CVE-2023-4813", "Importnat", `""`, "", rh+"CVE-2023-4813"),
			vulnJSON("CVE-2023-4806", "Severe", "5.9", "", rh+"CVE-2023-4806"),
			vulnJSON("", "Medium", "5.9", "2.28-236.el8", rh+"CVE-2023-4911"),
			vulnJSON("", "Low", "2.0", "", "https://example.com/advisory"),
			vulnJSON("CVE-2099-0001", "High", "11", "", "")),
		featureJSON("", "1.0"),
	)
	report, err := fetch(t, http.StatusOK, body)
	if err != nil {
		t.Fatal(err)
	}
	scan := vuln.FromReport(report)
	if scan.Status != vuln.StatusScanned || len(scan.Packages) != 6 {
		t.Fatalf("status %q with %d packages, want scanned with 6", scan.Status,
			len(scan.Packages))
	}
	want := []string{
		"CVE-2023-0286 openssl-libs High raw= fix=1:1.1.1k-9.el8_7 cvss=7.4",
		"CVE-2023-0215 openssl-libs Medium raw= fix=1:1.1.1k-9.el8_7 cvss=7.5",
		"CVE-2023-42363 busybox Medium raw=Unknown fix=1.36.1-r16 cvss=5.5",
		"CVE-2023-45853 busybox Critical raw=Unknown fix=1.3.1-r0 cvss=10",
		"CVE-2024-2511 busybox Unknown raw= fix= cvss=none",
		"pyup.io-61601 (CVE-2023-43804) urllib3 High raw= fix=1.26.17 cvss=8.1",
		"CVE-2023-4813 glibc Unknown raw=Importnat fix= cvss=none",
		"CVE-2023-4806 glibc Medium raw=Severe fix= cvss=5.9",
		"CVE-2023-4911 glibc Medium raw= fix=2.28-236.el8 cvss=5.9",
		"CVE-2099-0001 glibc High raw= fix= cvss=none",
	}
	if len(scan.Findings) != len(want) {
		t.Fatalf("%d findings, want %d: %+v", len(scan.Findings), len(want), scan.Findings)
	}
	for i, f := range scan.Findings {
		cvss := "none"
		if f.CVSS != nil {
			cvss = fmt.Sprint(*f.CVSS)
		}
		got := fmt.Sprintf("%s %s %s raw=%s fix=%s cvss=%s", f.Vulnerability, f.Package,
			f.Severity, f.RawSeverity, f.FixedBy, cvss)
		if got != want[i] {
			t.Errorf("finding %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
	first := scan.Findings[0]
	if first.Updater != "RHEL8-rhel-8-including-unpatched" || first.AddedBy != "sha256:1e3f" ||
		first.CVSSVector != "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H" ||
		!strings.HasPrefix(first.Link, rh) || first.Description != "d" {
		t.Errorf("first finding lost fields: %+v", first)
	}
	wantReason := `2 vulnerabilities with a severity that is none of Unknown, Negligible, ` +
		`Low, Medium, High, Critical ("Importnat" ×1, "Severe" ×1) read as Unknown, or as ` +
		`the CVSS band; 1 vulnerability without a name was named after the CVE id in the ` +
		`link; 1 vulnerability without a name or a CVE link was skipped; 1 repeated ` +
		`vulnerability of the same package and version was merged; 1 vulnerability with a ` +
		`CVSS score outside 0 to 10 was kept without the score; 1 package without a name ` +
		`was kept`
	if scan.Reason != wantReason {
		t.Errorf("reason\n%s\nwant\n%s", scan.Reason, wantReason)
	}
}

func TestFromReportStatuses(t *testing.T) {
	tests := []struct {
		status, want, reason string
	}{
		{"queued", vuln.StatusQueued, "Quay has not scanned the manifest yet"},
		{"failed", vuln.StatusFailed, "could not index the manifest"},
		{"unsupported", vuln.StatusUnsupported, "does not support the manifest"},
		{"manifest_layer_too_large", vuln.StatusLayerTooLarge, "larger than Quay's scanner"},
		{"unscanned", vuln.StatusBadResponse, `Quay answered the scan status "unscanned"`},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			report, err := fetch(t, http.StatusOK, `{"status": "`+tt.status+`", "data": null}`)
			if err != nil {
				t.Fatal(err)
			}
			scan := vuln.FromReport(report)
			if scan.Status != tt.want || !strings.Contains(scan.Reason, tt.reason) ||
				scan.Findings != nil || scan.Packages != nil {
				t.Errorf("scan %+v, want status %s with reason %q", scan, tt.want, tt.reason)
			}
			if vuln.Transient(scan.Status) != (tt.want == vuln.StatusQueued ||
				tt.want == vuln.StatusBadResponse) {
				t.Errorf("Transient(%s) = %v", scan.Status, vuln.Transient(scan.Status))
			}
		})
	}
}

func TestFromReportHuge(t *testing.T) {
	features := make([]string, 5000)
	for i := range features {
		features[i] = featureJSON(fmt.Sprintf("pkg-%d", i), "1.0",
			vulnJSON(fmt.Sprintf("CVE-2024-%05d", i), "Medium", "5.0", "1.1", ""),
			vulnJSON(fmt.Sprintf("CVE-2023-%05d", i), "Low", `""`, "", ""))
	}
	report, err := fetch(t, http.StatusOK, scannedJSON(features...))
	if err != nil {
		t.Fatal(err)
	}
	scan := vuln.FromReport(report)
	if len(scan.Packages) != 5000 || len(scan.Findings) != 10000 || scan.Reason != "" {
		t.Errorf("%d packages, %d findings, reason %q; want 5000, 10000, none",
			len(scan.Packages), len(scan.Findings), scan.Reason)
	}
}

func TestFromError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string // "" when the error must not be recorded
		reason string
	}{
		{"scanner down", 520, `{"detail": "security scanner misconfigured", "error_type": ` +
			`"downstream_issue", "status": 520}`, vuln.StatusUnavailable, "520"},
		{"deleted manifest", 404, `{"detail": "Not Found", "error_type": "not_found", ` +
			`"status": 404}`, vuln.StatusNotFound, "Quay has no such manifest"},
		{"malformed body", 200, `{"status": "scanned", "data": {"Layer": {"Features": ` +
			`[{"Name": "x", "Vulnerabilities": [{"Metadata": {"NVD": {"CVSSv3": ` +
			`{"Score": "high"}}}}]}]}}}`, vuln.StatusBadResponse, "is a JSON string, not a number"},
		{"truncated body", 200, `{"status": "scanned", "data": {"Lay`, vuln.StatusBadResponse,
			"not valid JSON"},
		{"no status", 200, `{"data": null}`, vuln.StatusBadResponse, `no "status"`},
		{"rejected token", 401, `{"error": "invalid_token", "error_description": ` +
			`"Requires authentication"}`, "", ""},
		{"forbidden", 403, `{"error": "insufficient_scope"}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fetch(t, tt.status, tt.body)
			if err == nil {
				t.Fatal("no error")
			}
			scan, ok := vuln.FromError(err)
			if ok != (tt.want != "") || scan.Status != tt.want ||
				!strings.Contains(scan.Reason, tt.reason) {
				t.Errorf("FromError = %+v, %v; want status %q with reason %q", scan, ok,
					tt.want, tt.reason)
			}
		})
	}
	if _, ok := vuln.FromError(context.Canceled); ok {
		t.Error("a cancellation was recorded as a scan")
	}
}
