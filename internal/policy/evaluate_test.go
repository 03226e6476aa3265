package policy_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"quaykeeper/internal/policy"
)

// Every case evaluates at at, 31 August, so that with 6 months the cutoff is 3 March
// (31 August minus 6 months normalizes from 31 February), not 28 February.
var (
	at     = time.Date(2026, 8, 31, 12, 0, 0, 0, time.UTC)
	cutoff = time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// digest returns a distinct valid digest per letter.
func digest(letter string) string { return "sha256:" + strings.Repeat(letter, 64) }

func sig(letter, suffix string) string { return "sha256-" + strings.Repeat(letter, 64) + suffix }

func tag(name, letter string, created time.Time) policy.Tag {
	return policy.Tag{Name: name, Digest: digest(letter), Created: created}
}

func ended(t policy.Tag, end time.Time) policy.Tag {
	t.End = &end
	return t
}

func scan(r ...policy.Reason) policy.Result   { return decided(policy.KindScan, r) }
func retain(r ...policy.Reason) policy.Result { return decided(policy.KindRetain, r) }
func prune(r ...policy.Reason) policy.Result  { return decided(policy.KindPrune, r) }

func decided(k policy.Kind, r []policy.Reason) policy.Result {
	return policy.Result{Decision: policy.Decision{Kind: k, Reasons: r}, Evaluated: true}
}

var skipped = policy.Result{}

const (
	latest    = policy.ReasonLatestImage
	matches   = policy.ReasonTagMatchesRegex
	notSel    = policy.ReasonNotSelected
	dormant   = policy.ReasonDormantRepository
	old       = policy.ReasonOlderThanThreshold
	accessory = policy.ReasonAccessory
	orphan    = policy.ReasonOrphanAccessory
)

type evalCase struct {
	name     string
	settings policy.Settings
	tags     []policy.Tag
	want     []policy.Result
}

func settings(regex string, keep int) policy.Settings {
	return policy.Settings{TagRegex: regex, AgeThresholdMonths: 6, KeepLatest: keep}
}

func runEvalCases(t *testing.T, tests []evalCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policy.Compile(tt.settings)
			if err != nil {
				t.Fatal(err)
			}
			got := p.EvaluateRepository(at, tt.tags)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d results, want %d", len(got), len(tt.want))
			}
			for i, g := range got {
				w := tt.want[i]
				if g.Evaluated != w.Evaluated || g.Decision.Kind != w.Decision.Kind ||
					!slices.Equal(g.Decision.Reasons, w.Decision.Reasons) {
					t.Errorf("tag %d %q: got %+v, want %+v", i, tt.tags[i].Name, g, w)
				}
			}
		})
	}
}

func TestEvaluateRules(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"rule 1 latest", settings("", 1),
			[]policy.Tag{tag("main", "a", at.Add(-days(1)))},
			[]policy.Result{scan(latest)}},
		{"rule 1 matches", settings(`v[0-9]+`, 1),
			[]policy.Tag{tag("main", "a", at.Add(-days(1))), tag("v7", "b", at.Add(-days(2)))},
			[]policy.Result{scan(latest), scan(matches)}},
		{"rule 1 latest and matches, reasons sorted", settings(`main`, 1),
			[]policy.Tag{tag("main", "a", at.Add(-days(1)))},
			[]policy.Result{scan(latest, matches)}},
		{"rule 2 recent but not selected", settings(`v[0-9]+`, 1),
			[]policy.Tag{tag("main", "a", at.Add(-days(1))), tag("dev", "b", at.Add(-days(2)))},
			[]policy.Result{scan(latest), retain(notSel)}},
		{"rule 3 dormant with latest", settings("", 1),
			[]policy.Tag{
				tag("v2", "a", cutoff.Add(-days(1))),
				tag("v1", "b", cutoff.Add(-days(30))),
			},
			[]policy.Result{retain(dormant, latest), retain(dormant)}},
		{"rule 3 dormant ignores a matching old tag", settings(`v1`, 1),
			[]policy.Tag{
				tag("v2", "a", cutoff.Add(-days(1))),
				tag("v1", "b", cutoff.Add(-days(30))),
			},
			[]policy.Result{retain(dormant, latest), retain(dormant)}},
		{"rule 4 old tag that is among keep_latest", settings("", 2),
			[]policy.Tag{
				tag("new", "a", at.Add(-days(1))),
				tag("second", "b", cutoff.Add(-days(100))),
				tag("third", "c", cutoff.Add(-days(200))),
			},
			[]policy.Result{scan(latest), retain(latest), prune(old)}},
		{"rule 5 old and not latest in an active repository", settings(`old`, 1),
			[]policy.Tag{tag("new", "a", at), tag("old", "b", cutoff.Add(-days(1)))},
			[]policy.Result{scan(latest), prune(old)}},
		{"empty repository", settings("", 1), nil, []policy.Result{}},
	})
}

func TestEvaluateBoundaries(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"created exactly at cutoff is recent, one second before is not", settings("", 1),
			[]policy.Tag{
				tag("new", "a", at),
				tag("edge", "b", cutoff),
				tag("before", "c", cutoff.Add(-time.Second)),
			},
			[]policy.Result{scan(latest), retain(notSel), prune(old)}},
		{"month end: 3 March is recent, 2 March is not", settings("", 1),
			[]policy.Tag{
				tag("new", "a", at),
				tag("march3", "b", time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)),
				tag("march2", "c", time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)),
				tag("feb28", "d", time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC)),
			},
			[]policy.Result{scan(latest), retain(notSel), prune(old), prune(old)}},
		{"end equal to T is not active, T+1s is", settings("", 1),
			[]policy.Tag{
				ended(tag("gone", "a", at.Add(-days(1))), at),
				ended(tag("expiring", "b", at.Add(-days(2))), at.Add(time.Second)),
			},
			[]policy.Result{skipped, scan(latest)}},
		{"inactive tags do not make an image latest", settings("", 1),
			[]policy.Tag{
				ended(tag("gone", "a", at.Add(-days(1))), at.Add(-time.Hour)),
				tag("kept", "b", at.Add(-days(2))),
				tag("prior", "a", at.Add(-days(3))),
			},
			[]policy.Result{skipped, scan(latest), retain(notSel)}},
		{"inactive recent tag does not wake a dormant repository", settings("", 1),
			[]policy.Tag{
				ended(tag("gone", "a", at.Add(-days(1))), at.Add(-time.Hour)),
				tag("v1", "b", cutoff.Add(-days(1))),
			},
			[]policy.Result{skipped, retain(dormant, latest)}},
		{"instant in another zone is the same instant", settings("", 1),
			[]policy.Tag{ended(tag("gone", "a", at.Add(-days(1))),
				at.In(time.FixedZone("UTC-5", -5*3600)))},
			[]policy.Result{skipped}},
	})
}

func TestEvaluateLatest(t *testing.T) {
	sameSecond := at.Add(-days(1))
	runEvalCases(t, []evalCase{
		{"multi-arch push in one second gives several latest images", settings("", 1),
			[]policy.Tag{
				tag("amd64", "a", sameSecond),
				tag("arm64", "b", sameSecond),
				tag("older", "c", sameSecond.Add(-time.Second)),
			},
			[]policy.Result{scan(latest), scan(latest), retain(notSel)}},
		{"keep_latest 2 counts distinct times, ties included", settings("", 2),
			[]policy.Tag{
				tag("a1", "a", sameSecond),
				tag("b1", "b", sameSecond),
				tag("c2", "c", sameSecond.Add(-time.Hour)),
				tag("d2", "d", sameSecond.Add(-time.Hour)),
				tag("e3", "e", sameSecond.Add(-2*time.Hour)),
			},
			[]policy.Result{
				scan(latest), scan(latest), scan(latest), scan(latest), retain(notSel),
			}},
		{"keep_latest above the number of images makes all latest", settings("", 100),
			[]policy.Tag{tag("x", "a", at), tag("y", "b", cutoff.Add(-days(900)))},
			[]policy.Result{scan(latest), retain(latest)}},
		{"image created is its newest tag; an old tag of a latest digest is latest",
			settings("", 1),
			[]policy.Tag{
				tag("old-alias", "a", cutoff.Add(-days(10))),
				tag("other", "b", at.Add(-days(2))),
				tag("new-alias", "a", at.Add(-days(1))),
			},
			[]policy.Result{retain(latest), retain(notSel), scan(latest)}},
		{"dormant repository: every tag of the latest digest carries latest_image",
			settings("", 1),
			[]policy.Tag{
				tag("v1", "a", cutoff.Add(-days(50))),
				tag("stable", "a", cutoff.Add(-days(5))),
				tag("v0", "b", cutoff.Add(-days(20))),
			},
			[]policy.Result{retain(dormant, latest), retain(dormant, latest), retain(dormant)}},
	})
}

func TestEvaluateRegexAnchoring(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"v1 matches only v1", settings(`v1`, 1),
			[]policy.Tag{
				tag("newest", "z", at),
				tag("v1", "a", at.Add(-days(1))),
				tag("v10", "b", at.Add(-days(1))),
				tag("xv1", "c", at.Add(-days(1))),
			},
			[]policy.Result{scan(latest), scan(matches), retain(notSel), retain(notSel)}},
		{"alternation is grouped before anchoring", settings(`a|b`, 1),
			[]policy.Tag{
				tag("newest", "z", at),
				tag("a", "a", at.Add(-days(1))),
				tag("ax", "b", at.Add(-days(1))),
				tag("xb", "c", at.Add(-days(1))),
			},
			[]policy.Result{scan(latest), scan(matches), retain(notSel), retain(notSel)}},
	})
}

func TestEvaluateAccessories(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"accessories of a scanned subject are retained, every kind", settings("", 1),
			[]policy.Tag{
				tag("main", "a", at.Add(-days(1))),
				tag(sig("a", ".sig"), "9", at),
				tag(sig("a", ".att"), "8", at),
				tag(sig("a", ".sbom"), "7", at),
			},
			[]policy.Result{scan(latest), retain(accessory), retain(accessory), retain(accessory)}},
		{"accessories follow retained and pruned subjects", settings("", 1),
			[]policy.Tag{
				tag("main", "a", at.Add(-days(1))),
				tag("dev", "b", at.Add(-days(2))),
				tag("ancient", "c", cutoff.Add(-days(2))),
				tag(sig("b", ".sig"), "9", at),
				tag(sig("c", ".att"), "8", at),
			},
			[]policy.Result{scan(latest), retain(notSel), prune(old), retain(accessory),
				prune(accessory)}},
		{"subject with one retained and one pruned tag keeps its accessory", settings("", 1),
			[]policy.Tag{
				tag("main", "a", at.Add(-days(1))),
				tag("dev", "b", at.Add(-days(2))),
				tag("dev-old", "b", cutoff.Add(-days(2))),
				tag(sig("b", ".sig"), "9", at),
			},
			// dev-old is old and its digest is not latest, so it alone is pruned; the accessory
			// follows dev, the subject's retained tag.
			[]policy.Result{scan(latest), retain(notSel), prune(old), retain(accessory)}},
		{"accessory of a dormant repository's tags is retained", settings("", 1),
			[]policy.Tag{
				tag("v1", "a", cutoff.Add(-days(3))),
				tag("v0", "b", cutoff.Add(-days(9))),
				tag(sig("b", ".sbom"), "9", cutoff.Add(-days(9))),
			},
			[]policy.Result{retain(dormant, latest), retain(dormant), retain(accessory)}},
		{"orphans: no tag, only an inactive tag, or only an accessory with the digest",
			settings("", 1),
			[]policy.Tag{
				tag("main", "a", at.Add(-days(1))),
				ended(tag("gone", "b", at.Add(-days(2))), at.Add(-time.Hour)),
				tag(sig("c", ".sig"), "9", at),
				tag(sig("b", ".sig"), "8", at),
				tag(sig("9", ".att"), "7", at),
			},
			[]policy.Result{scan(latest), skipped, prune(orphan), prune(orphan), prune(orphan)}},
		{"accessories are not images: no latest, no waking a dormant repository",
			settings("", 1),
			[]policy.Tag{
				tag("v1", "a", cutoff.Add(-days(3))),
				tag(sig("a", ".sig"), "9", at),
			},
			[]policy.Result{retain(dormant, latest), retain(accessory)}},
		{"only accessories: all orphans", settings("", 1),
			[]policy.Tag{tag(sig("a", ".sig"), "9", at), tag(sig("b", ".att"), "8", at)},
			[]policy.Result{prune(orphan), prune(orphan)}},
		{"accessory matching the regex is still an accessory", settings(`sha256-.*`, 1),
			[]policy.Tag{tag("main", "a", at), tag(sig("a", ".sig"), "9", at)},
			[]policy.Result{scan(latest), retain(accessory)}},
		{"inactive accessory is not evaluated", settings("", 1),
			[]policy.Tag{tag("main", "a", at), ended(tag(sig("a", ".sig"), "9", at), at)},
			[]policy.Result{scan(latest), skipped}},
		{"malformed accessory names are ordinary tags", settings("", 1),
			[]policy.Tag{
				tag("main", "a", at.Add(-days(1))),
				tag(sig("A", ".sig"), "b", at),
				tag("sha256-"+strings.Repeat("a", 63)+".sig", "c", at),
				tag(sig("a", ".sig2"), "d", at),
				tag("sha512-"+strings.Repeat("a", 64)+".sig", "e", at),
			},
			[]policy.Result{retain(notSel), scan(latest), scan(latest), scan(latest),
				scan(latest)}},
	})
}

func TestIsAccessory(t *testing.T) {
	hex := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name string
		ok   bool
	}{
		{"sha256-" + hex + ".sig", true},
		{"sha256-" + hex + ".att", true},
		{"sha256-" + hex + ".sbom", true},
		{"sha256-" + strings.ToUpper(hex) + ".sig", false},
		{"sha256-" + hex[:63] + ".sig", false},
		{"sha256-" + hex + "0.sig", false},
		{"sha256-" + hex + ".sig2", false},
		{"sha256-" + hex + ".SIG", false},
		{"sha256-" + hex, false},
		{"sha256-" + hex + ".", false},
		{"sha512-" + hex + ".sig", false},
		{"sha256:" + hex + ".sig", false},
		{"sha256-" + hex[:62] + "g0.sig", false},
		{"latest", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subject, ok := policy.IsAccessory(tt.name)
			want := ""
			if tt.ok {
				want = "sha256:" + hex
			}
			if ok != tt.ok || subject != want {
				t.Fatalf("IsAccessory = (%q, %v), want (%q, %v)", subject, ok, want, tt.ok)
			}
		})
	}
}

func TestActive(t *testing.T) {
	tests := []struct {
		name string
		end  *time.Time
		want bool
	}{
		{"no end", nil, true},
		{"end after", ptr(at.Add(time.Second)), true},
		{"end at", ptr(at), false},
		{"end before", ptr(at.Add(-time.Second)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := policy.Active(policy.Tag{End: tt.end}, at); got != tt.want {
				t.Fatalf("Active = %v, want %v", got, tt.want)
			}
		})
	}
}

func ptr(t time.Time) *time.Time { return &t }

// TestReasonsAreOwned checks that a caller changing one decision's reasons affects neither
// another decision of the same call nor a later call.
func TestReasonsAreOwned(t *testing.T) {
	p, err := policy.Compile(settings("main", 1))
	if err != nil {
		t.Fatal(err)
	}
	tags := []policy.Tag{tag("main", "a", at), tag("dev", "b", at.Add(-days(1)))}
	first := p.EvaluateRepository(at, tags)
	first[0].Decision.Reasons[1] = "corrupted"
	first[0].Decision.Reasons = append(first[0].Decision.Reasons[:1], "appended")
	first[1].Decision.Reasons[0] = "corrupted"

	again := p.EvaluateRepository(at, tags)
	if r := again[0].Decision.Reasons; !slices.Equal(r, []policy.Reason{latest, matches}) {
		t.Errorf("second call reasons of main = %v", r)
	}
	if r := again[1].Decision.Reasons; !slices.Equal(r, []policy.Reason{notSel}) {
		t.Errorf("second call reasons of dev = %v", r)
	}
	again[0].Decision.Reasons = append(again[0].Decision.Reasons, "appended")
	if r := again[1].Decision.Reasons; !slices.Equal(r, []policy.Reason{notSel}) {
		t.Errorf("append to main's reasons changed dev's: %v", r)
	}
}
