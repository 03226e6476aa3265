package quay

import (
	"context"
	"reflect"
	"testing"
)

// scannedBody is the security example of quay-api.md §4.7, plus a vulnerability without CVSS
// enrichment (Score and Vectors "") and without a fix (FixedBy "").
const scannedBody = `{
  "status": "scanned",
  "data": {
    "Layer": {
      "Name": "sha256:5b0be1", "ParentName": "", "NamespaceName": "", "IndexedByVersion": 4,
      "Features": [
        {
          "Name": "openssl-libs", "VersionFormat": "", "NamespaceName": "",
          "AddedBy": "sha256:1e3f", "Version": "1:1.1.1k-7.el8_6",
          "BaseScores": [7.4], "CVEIds": ["CVE-2023-0286"],
          "Vulnerabilities": [
            {
              "Severity": "High",
              "NamespaceName": "RHEL8-rhel-8-including-unpatched",
              "Link": "https://access.redhat.com/security/cve/CVE-2023-0286",
              "FixedBy": "1:1.1.1k-9.el8_7",
              "Description": "A type confusion vulnerability",
              "Name": "openssl: X.400 address type confusion in X.509 GeneralName (important)",
              "Metadata": {
                "UpdatedBy": "RHEL8-rhel-8-including-unpatched",
                "RepoName": "cpe:/o:redhat:enterprise_linux:8::baseos", "RepoLink": null,
                "DistroName": "Red Hat Enterprise Linux Server", "DistroVersion": "8",
                "NVD": {"CVSSv3": {"Vectors": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H",
                                   "Score": 7.4}}
              }
            },
            {
              "Severity": "Low", "NamespaceName": "pyupio", "Link": "", "FixedBy": "",
              "Description": "", "Name": "pyup.io-38765 (CVE-2019-20916)",
              "Metadata": {"UpdatedBy": "pyupio", "RepoName": null, "RepoLink": null,
                           "DistroName": "", "DistroVersion": "",
                           "NVD": {"CVSSv3": {"Vectors": "", "Score": ""}}}
            },
            {"Severity": "Unknown", "NamespaceName": "x", "Link": "", "FixedBy": "",
             "Description": "", "Name": "no metadata", "Metadata": null}
          ]
        },
        {"Name": "bash", "VersionFormat": "", "NamespaceName": "", "AddedBy": "sha256:1e3f",
         "Version": "4.4.20-4.el8_6", "BaseScores": [], "CVEIds": [], "Vulnerabilities": []}
      ]
    }
  }
}`

func TestSecurity(t *testing.T) {
	hs := newHarness(t, expect(t, "/api/v1/repository/acme/team/app/manifest/sha256:5b0be1/"+
		"security", "vulnerabilities=true", scannedBody))
	report, err := hs.c.Security(context.Background(), "acme", "team/app", "sha256:5b0be1")
	if err != nil {
		t.Fatalf("Security: %v", err)
	}
	want := SecurityReport{Status: "scanned", Features: []Feature{
		{Name: "openssl-libs", Version: "1:1.1.1k-7.el8_6", AddedBy: "sha256:1e3f",
			Vulnerabilities: []Vulnerability{
				{Name: "openssl: X.400 address type confusion in X.509 GeneralName (important)",
					Severity: "High", Link: "https://access.redhat.com/security/cve/CVE-2023-0286",
					FixedBy: "1:1.1.1k-9.el8_7", Description: "A type confusion vulnerability",
					NamespaceName: "RHEL8-rhel-8-including-unpatched", CVSSScore: ptr(7.4),
					CVSSVector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H"},
				{Name: "pyup.io-38765 (CVE-2019-20916)", Severity: "Low",
					NamespaceName: "pyupio"},
				{Name: "no metadata", Severity: "Unknown", NamespaceName: "x"},
			}},
		{Name: "bash", Version: "4.4.20-4.el8_6", AddedBy: "sha256:1e3f",
			Vulnerabilities: []Vulnerability{}},
	}}
	if !reflect.DeepEqual(report, want) {
		t.Errorf("report\n%+v\nwant\n%+v", report, want)
	}
}

func TestSecurityStatuses(t *testing.T) {
	for _, status := range []string{"queued", "failed", "unsupported",
		"manifest_layer_too_large"} {
		t.Run(status, func(t *testing.T) {
			hs := newHarness(t, jsonOK(`{"status": "`+status+`", "data": null}`))
			report, err := hs.c.Security(context.Background(), "acme", "app", "sha256:aa")
			if err != nil || report.Status != status || report.Features != nil {
				t.Errorf("report %+v, %v", report, err)
			}
		})
	}
}

func TestSecurityShape(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "no status", body: `{"data": null}`, want: `the body has no "status"`},
		{name: "scanned without data", body: `{"status": "scanned", "data": null}`,
			want: `the report is "scanned" but has no "data.Layer"`},
		{name: "score a word", body: `{"status": "scanned", "data": {"Layer": {"Features": [` +
			`{"Name": "x", "Vulnerabilities": [{"Metadata": {"NVD": {"CVSSv3": ` +
			`{"Score": "high"}}}}]}]}}}`,
			want: `field "data.Layer.Features.Vulnerabilities.Metadata.NVD.CVSSv3.Score" is a ` +
				"JSON string, not a number"},
		{name: "features an object", body: `{"status": "scanned", "data": {"Layer": ` +
			`{"Features": {}}}}`,
			want: `field "data.Layer.Features" is a JSON object, not an array`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, jsonOK(tt.body))
			_, err := hs.c.Security(context.Background(), "acme", "app", "sha256:aa")
			wantKind(t, err, KindMalformed)
			wantText(t, err, tt.want)
		})
	}
}

func TestSecurityScannerDown(t *testing.T) {
	hs := newHarness(t, reply(520, "application/json", `{"detail": "security scanner `+
		`misconfigured", "error_type": "downstream_issue", "status": 520}`))
	_, err := hs.c.Security(context.Background(), "acme", "app", "sha256:aa")
	e := wantKind(t, err, KindUnavailable)
	if !e.Retryable() || hs.requests() != 4 {
		t.Errorf("retryable %v after %d requests; want true after 4", e.Retryable(),
			hs.requests())
	}
	wantText(t, err, `520: Quay's security scanner could not answer (Quay answered "security `+
		`scanner misconfigured"); retry later`)
}
