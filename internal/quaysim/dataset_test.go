package quaysim

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	wide := func() *Dataset {
		ds := fixture()
		repos := ds.Organizations[0].Repositories
		for len(repos) < 4 {
			repos = append(repos, Repository{Name: "extra" + string(rune('a'+len(repos)))})
		}
		for len(repos[3].Tags) < 8 {
			name := "t" + string(rune('a'+len(repos[3].Tags)))
			repos[3].Tags = append(repos[3].Tags, Tag{Name: name, ManifestDigest: dg("wide"),
				StartTS: now0})
		}
		ds.Organizations[0].Repositories = repos
		return ds
	}
	tests := []struct {
		name   string
		mutate func(ds *Dataset)
		want   string // substring of the error; "" means valid
	}{
		{"fixture", func(*Dataset) {}, ""},
		{"bad digest with path", func(ds *Dataset) {
			*ds = *wide()
			ds.Organizations[0].Repositories[3].Tags[7].ManifestDigest = "abc"
		}, `organizations[0].repositories[3].tags[7]: manifest_digest "abc" is not ` +
			`sha256:<64 hex>`},
		{"uppercase digest", func(ds *Dataset) {
			ds.Organizations[0].Repositories[0].Tags[0].ManifestDigest = strings.ToUpper(dg("x"))
		}, "is not sha256:<64 hex>"},
		{"two alive rows of one name", func(ds *Dataset) {
			ds.Organizations[0].Repositories[0].Tags[1].EndTS = nil
		}, `tag "latest" overlaps`},
		{"overlapping history", func(ds *Dataset) {
			ds.Organizations[0].Repositories[0].Tags[1].EndTS = ts(now0 - 4*day)
		}, `organizations[0].repositories[0].tags[4]: tag "latest" overlaps tags[1]`},
		{"end before start", func(ds *Dataset) {
			ds.Organizations[0].Repositories[0].Tags[0].EndTS = ts(now0 - 61*day)
		}, "end_ts"},
		{"negative size", func(ds *Dataset) {
			ds.Organizations[0].Repositories[0].Tags[0].Size = -1
		}, "size -1 is negative"},
		{"bad tag name", func(ds *Dataset) {
			ds.Organizations[0].Repositories[0].Tags[0].Name = "-x"
		}, `name "-x" is not a valid tag`},
		{"bad repository name", func(ds *Dataset) {
			ds.Organizations[0].Repositories[0].Name = "Team//App"
		}, `organizations[0].repositories[0]: name "Team//App"`},
		{"duplicate repository", func(ds *Dataset) {
			ds.Organizations[0].Repositories[1].Name = "api"
		}, `duplicate repository "api"`},
		{"bad organization name", func(ds *Dataset) {
			ds.Organizations[1].Name = "a"
		}, `organizations[1]: name "a" is not a valid namespace`},
		{"duplicate organization", func(ds *Dataset) {
			ds.Organizations[1].Name = "acme"
		}, `duplicate organization "acme"`},
		{"unknown scope", func(ds *Dataset) {
			ds.Tokens[0].Scopes = append(ds.Tokens[0].Scopes, "repo:everything")
		}, `tokens[0].scopes[2]: unknown scope "repo:everything"`},
		{"token organization missing", func(ds *Dataset) {
			ds.Tokens[1].Organizations = []string{"nope"}
		}, `tokens[1].organizations[0]: organization "nope" is not in the dataset`},
		{"user named like an organization", func(ds *Dataset) {
			ds.Tokens[0].User = "other"
		}, `user "other" has the name of an organization`},
		{"token with whitespace", func(ds *Dataset) {
			ds.Tokens[0].Token = "a b"
		}, "tokens[0]: token must be non-empty"},
		{"duplicate token", func(ds *Dataset) {
			ds.Tokens[1].Token = ds.Tokens[0].Token
		}, "tokens[1]: duplicate token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := fixture()
			tt.mutate(ds)
			err := ds.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
			if err != nil {
				for _, tok := range ds.Tokens {
					if len(tok.Token) > 3 && strings.Contains(err.Error(), tok.Token) {
						t.Fatalf("error reveals a token")
					}
				}
			}
		})
	}
}

func TestValidateCapsProblems(t *testing.T) {
	ds := fixture()
	for i := range 15 {
		ds.Organizations[0].Repositories[0].Tags = append(ds.Organizations[0].Repositories[0].Tags,
			Tag{Name: "t" + strings.Repeat("x", i), ManifestDigest: "bad", StartTS: now0})
	}
	err := ds.Validate()
	if err == nil || !strings.Contains(err.Error(), "(and 5 more problems)") {
		t.Fatalf("Validate() = %v, want ten problems and a count of the rest", err)
	}
}

func TestValidateAllowsRetargetInOneSecond(t *testing.T) {
	ds := fixture()
	repo := &ds.Organizations[0].Repositories[1]
	// Listed open row first: the zero-length row still sorts before it.
	repo.Tags = []Tag{
		{Name: "x", ManifestDigest: dg("b"), StartTS: now0},
		{Name: "x", ManifestDigest: dg("a"), StartTS: now0, EndTS: ts(now0)},
	}
	if err := ds.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil for a retarget within one second", err)
	}
}

func TestDatasetWriteLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ds.json")
	want := fixture()
	if err := want.Write(path); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600 (the file holds tokens)", info.Mode().Perm())
	}
	got, err := LoadDataset(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the dataset")
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"end_ts": null`) {
		t.Errorf("open-ended rows should be written with end_ts null")
	}
}

func TestLoadDatasetErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"not json", "{", "unexpected EOF"},
		{"unknown field", `{"organizations": [], "tokens": [], "extra": 1}`,
			`unknown field "extra"`},
		{"invalid content", `{"organizations": [{"name": "acme", "repositories": [{"name": "api",
			"tags": [{"name": "v1", "manifest_digest": "abc", "start_ts": 1}]}]}]}`,
			`organizations[0].repositories[0].tags[0]: manifest_digest "abc"`},
		{"null end and size", `{"organizations": [{"name": "acme", "repositories": [{"name": "l",
			"tags": [{"name": "v1", "manifest_digest": "` + dg("l") + `", "start_ts": 1,
			"end_ts": null, "size": null, "is_manifest_list": true}]}]}], "tokens": []}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ds.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadDataset(path)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("LoadDataset() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("LoadDataset() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := LoadDataset(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("LoadDataset of a missing file succeeded")
	}
}
