package quaysim

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var genOpts = GenerateOptions{Repositories: 50, TagsPerRepo: 40, Seed: 1, Now: fixtureNow,
	DormantFraction: DefaultDormantFraction}

func TestGenerateDeterministic(t *testing.T) {
	a, b := Generate(genOpts), Generate(genOpts)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same options differ")
	}
	other := genOpts
	other.Seed = 2
	if reflect.DeepEqual(a, Generate(other)) {
		t.Fatal("seeds 1 and 2 gave the same dataset")
	}
	tok := a.Tokens[0]
	if !regexp.MustCompile(`^[A-Za-z0-9]{40}$`).MatchString(tok.Token) || tok.User != "alice" ||
		!reflect.DeepEqual(tok.Scopes, []string{"repo:read", "user:read"}) ||
		!reflect.DeepEqual(tok.Organizations, []string{"acme"}) {
		t.Errorf("token = %+v (value hidden), want 40 alphanumerics for alice in acme",
			Token{User: tok.User, Scopes: tok.Scopes, Organizations: tok.Organizations})
	}
	set := genOpts
	set.Token, set.User, set.Organization = "given-token", "zed", "corp"
	c := Generate(set)
	if c.Tokens[0].Token != "given-token" || c.Tokens[0].User != "zed" ||
		c.Organizations[0].Name != "corp" {
		t.Errorf("options not applied: org %s user %s", c.Organizations[0].Name,
			c.Tokens[0].User)
	}
}

var (
	semver  = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	archTag = regexp.MustCompile(`^v\d+\.\d+\.\d+-(amd64|arm64)$`)
	gitSHA  = regexp.MustCompile(`^[0-9a-f]{7,12}$`)
	nightly = regexp.MustCompile(`^nightly-\d{8}$`)
	prTag   = regexp.MustCompile(`^pr-\d+$`)
)

// TestGenerateMix counts each kind of row in a 50x40 dataset.
func TestGenerateMix(t *testing.T) {
	ds := Generate(genOpts)
	if err := ds.Validate(); err != nil {
		t.Fatalf("generated dataset is invalid: %v", err)
	}
	now := fixtureNow.Unix()
	count := map[string]int{}
	for _, repo := range ds.Organizations[0].Repositories {
		if len(repo.Tags) != 40 {
			t.Errorf("%s has %d rows, want exactly 40", repo.Name, len(repo.Tags))
		}
		if strings.Contains(repo.Name, "/") {
			count["team/app repositories"]++
		}
		if repo.IsPublic {
			count["public repositories"]++
		}
		newest, alive, digests := int64(0), 0, map[string]int{}
		for _, tg := range repo.Tags {
			newest = max(newest, tg.StartTS)
			if tg.StartTS > now || tg.StartTS < now-800*day {
				t.Errorf("%s:%s start_ts %d outside the last ~2 years", repo.Name, tg.Name,
					tg.StartTS)
			}
			digests[tg.ManifestDigest]++
			switch {
			case semver.MatchString(tg.Name):
				count["releases"]++
			case archTag.MatchString(tg.Name):
				count["arch tags"]++
				// The list's own row may have been trimmed with the oldest history.
				if list := findList(repo, tg.Name); list != "" {
					count["arch tags of a listed version"]++
					arch := tg.Name[strings.LastIndex(tg.Name, "-")+1:]
					if c, _ := childFor(list, arch); c.digest != tg.ManifestDigest {
						t.Errorf("%s:%s does not point at its list's child", repo.Name, tg.Name)
					}
				}
			case gitSHA.MatchString(tg.Name):
				count["git sha tags"]++
			case nightly.MatchString(tg.Name):
				count["nightlies"]++
			case prTag.MatchString(tg.Name):
				count["pull request tags"]++
			case tg.Name == "latest":
				count["latest rows"]++
				if !tg.aliveAt(now) {
					count["dead latest rows"]++
				}
			case isCosignTag(tg.Name):
				count["cosign "+tg.Name[strings.LastIndex(tg.Name, "."):]]++
				if tg.Size > 10000 {
					t.Errorf("accessory size %d, want a few KB", tg.Size)
				}
			default:
				t.Errorf("unexpected tag name %q", tg.Name)
			}
			switch {
			case tg.IsManifestList:
				count["manifest lists"]++
			case !isCosignTag(tg.Name) && (tg.Size < 10e6 || tg.Size > 800e6):
				t.Errorf("%s:%s size %d outside 10-800 MB", repo.Name, tg.Name, tg.Size)
			}
			switch {
			case tg.EndTS == nil:
				alive++
			case *tg.EndTS <= now:
				count["dead rows"]++
			default:
				alive++
				count["scheduled expiries"]++
			}
		}
		for _, n := range digests {
			if n >= 3 {
				count["digests with 3+ tags"]++
			}
		}
		if newest < now-240*day {
			count["dormant repositories"]++
		}
		if alive == 0 {
			count["repositories with no alive tag"]++
		}
	}
	minimum := map[string]int{
		"releases": 150, "arch tags": 20, "arch tags of a listed version": 15,
		"git sha tags": 150, "nightlies": 150,
		"pull request tags": 200, "latest rows": 100, "dead latest rows": 50,
		"cosign .sig": 30, "cosign .att": 10, "manifest lists": 50, "dead rows": 300,
		"scheduled expiries": 10, "digests with 3+ tags": 100, "team/app repositories": 16,
		"public repositories": 1, "dormant repositories": 10,
		"repositories with no alive tag": 2,
	}
	for kind, want := range minimum {
		if count[kind] < want {
			t.Errorf("%s = %d, want at least %d (all counts: %v)", kind, count[kind], want, count)
		}
	}
	t.Logf("counts: %v", count)
	if count["dormant repositories"] > 12 {
		t.Errorf("dormant repositories = %d, want about 20%% of 50", count["dormant repositories"])
	}
}

// findList returns the digest of the manifest list tagged with the version of an arch tag.
func findList(repo Repository, archName string) string {
	version := archName[:strings.LastIndex(archName, "-")]
	for _, tg := range repo.Tags {
		if tg.Name == version && tg.IsManifestList {
			return tg.ManifestDigest
		}
	}
	return ""
}

func TestGenerateDefaults(t *testing.T) {
	ds := Generate(GenerateOptions{Seed: 3, Now: time.Unix(1_750_000_000, 0)})
	org := ds.Organizations[0]
	if org.Name != "acme" || len(org.Repositories) != 20 || len(org.Repositories[0].Tags) != 40 {
		t.Errorf("defaults: org %s, %d repositories, %d tags", org.Name, len(org.Repositories),
			len(org.Repositories[0].Tags))
	}
	small := Generate(GenerateOptions{Seed: 3, Now: time.Unix(1_750_000_000, 0),
		Repositories: 2, TagsPerRepo: 1})
	if err := small.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(small.Organizations[0].Repositories[1].Tags) != 1 {
		t.Errorf("TagsPerRepo 1 not honoured")
	}
}

func TestGeneratedDatasetServes(t *testing.T) {
	ds := Generate(genOpts)
	s := New(ds, Options{Now: func() time.Time { return fixtureNow }})
	tok := ds.Tokens[0].Token
	for _, repo := range ds.Organizations[0].Repositories[:5] {
		body := call(s, "/api/v1/repository/acme/"+repo.Name+"/tag/?limit=100", tok).
			mustStatus(t, 200).object(t)
		if got := len(body["tags"].([]any)); got != 40 {
			t.Errorf("%s lists %d rows, want 40", repo.Name, got)
		}
		for _, tg := range repo.Tags {
			if tg.aliveAt(fixtureNow.Unix()) {
				call(s, "/api/v1/repository/acme/"+repo.Name+"/manifest/"+tg.ManifestDigest, tok).
					mustStatus(t, 200)
			}
		}
	}
}
