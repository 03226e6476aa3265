package policy_test

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"quaykeeper/internal/policy"
)

// fuzzRegexes are the tag regexes a fuzz input picks from; the fuzzer explores tags, not
// regex syntax, which TestValidateRejects covers.
var fuzzRegexes = []string{
	"", "v1", "v[0-9]+", "main|dev", ".*", "sha256-.*", `(latest|v1)(\.2\.3)?`,
}

// fuzzInstants include month ends, where the calendar arithmetic of the cutoff normalizes.
var fuzzInstants = []time.Time{
	time.Date(2026, 8, 31, 12, 0, 0, 0, time.UTC),
	time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC),
	time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
}

// fuzzDigests are the images of a fuzzed repository; accessory names also name digest '6',
// which no tag has, so orphans occur.
const fuzzDigests = "012345"

// fuzzNames mixes ordinary tags, accessories of every kind and near-accessories.
var fuzzNames = []string{
	"latest", "v1", "v10", "v1.2.3", "main", "main2", "dev", "v1-dev", "release-1",
	sig("0", ".sig"), sig("1", ".att"), sig("2", ".sbom"), sig("3", ".sig"), sig("6", ".sig"),
	sig("0", ".att"), sig("A", ".sig"), "sha256-" + strings.Repeat("1", 63) + ".sig",
	sig("1", ".sig2"),
}

// fuzzTags builds up to 64 tags from data, 4 bytes each: name, digest, created, end. Created
// times cluster around the cutoff and repeat exactly, so ties and boundaries are common.
func fuzzTags(data []byte, at, cutoff time.Time) []policy.Tag {
	boundaries := []time.Time{
		cutoff, cutoff.Add(-time.Second), cutoff.Add(time.Second), at, at.Add(-time.Second),
		at.Add(time.Second), cutoff.AddDate(-1, 0, 0), at.Add(-time.Hour),
	}
	ends := []*time.Time{nil, nil, nil, nil, ptr(at), ptr(at.Add(time.Second)),
		ptr(at.Add(-days(1))), ptr(at.Add(days(40)))}
	var tags []policy.Tag
	for len(data) >= 4 && len(tags) < 64 {
		created := cutoff.Add(time.Duration(int(data[2])-132) * 6 * time.Hour)
		if int(data[2]) < len(boundaries) {
			created = boundaries[data[2]]
		}
		tags = append(tags, policy.Tag{
			Name:    fuzzNames[int(data[0])%len(fuzzNames)],
			Digest:  digest(string(fuzzDigests[int(data[1])%len(fuzzDigests)])),
			Created: created,
			End:     ends[data[3]%8],
		})
		data = data[4:]
	}
	return tags
}

func FuzzEvaluateRepository(f *testing.F) {
	f.Add([]byte{0, 0, 200, 0, 1, 1, 0, 0, 7, 0, 0, 0}, uint8(0), uint8(5), uint8(0), uint8(0))
	f.Add([]byte{4, 2, 9, 0, 5, 3, 9, 0, 6, 4, 8, 1, 9, 2, 0, 0, 11, 1, 2, 0, 3, 5, 1, 4},
		uint8(1), uint8(5), uint8(2), uint8(0))
	f.Add([]byte{0, 0, 50, 0, 1, 1, 50, 0, 2, 2, 40, 0, 8, 9, 250, 0, 13, 0, 250, 5},
		uint8(2), uint8(0), uint8(6), uint8(1))
	f.Add([]byte{7, 0, 255, 0, 10, 1, 255, 2}, uint8(0), uint8(11), uint8(0), uint8(2))
	f.Add([]byte{}, uint8(99), uint8(119), uint8(4), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, keep, months, regex, instant uint8) {
		s := policy.Settings{
			TagRegex:           fuzzRegexes[int(regex)%len(fuzzRegexes)],
			AgeThresholdMonths: 1 + int(months)%120,
			KeepLatest:         1 + int(keep)%100,
		}
		p, err := policy.Compile(s)
		if err != nil {
			t.Fatalf("Compile(%+v): %v", s, err)
		}
		at := fuzzInstants[int(instant)%len(fuzzInstants)]
		tags := fuzzTags(data, at, p.Cutoff(at))
		got := p.EvaluateRepository(at, tags)
		checkInvariants(t, tags, got, at, p.Cutoff(at))
		want := referenceEvaluate(s, at, tags)
		for i := range tags {
			if !sameResult(got[i], want[i]) {
				t.Errorf("tag %d %+v: got %+v, reference %+v", i, tags[i], got[i], want[i])
			}
		}

		perm := rand.New(rand.NewPCG(uint64(len(data)), uint64(keep))).Perm(len(tags))
		shuffled := make([]policy.Tag, len(tags))
		for to, from := range perm {
			shuffled[to] = tags[from]
		}
		for to, r := range p.EvaluateRepository(at, shuffled) {
			if !sameResult(r, got[perm[to]]) {
				t.Errorf("tag %+v: %+v after shuffling, %+v before", shuffled[to], r, got[perm[to]])
			}
		}
	})
}

func sameResult(a, b policy.Result) bool {
	return a.Evaluated == b.Evaluated && a.Decision.Kind == b.Decision.Kind &&
		slices.Equal(a.Decision.Reasons, b.Decision.Reasons)
}

// checkInvariants checks the properties every evaluation has, whatever the input.
func checkInvariants(t *testing.T, tags []policy.Tag, got []policy.Result, at, cutoff time.Time) {
	t.Helper()
	if len(got) != len(tags) {
		t.Fatalf("%d results for %d tags", len(got), len(tags))
	}
	images, latestKept := false, false
	for i, r := range got {
		tg, d := tags[i], r.Decision
		if r.Evaluated != active(tg, at) {
			t.Fatalf("tag %d %+v: Evaluated = %v, active = %v", i, tg, r.Evaluated, !r.Evaluated)
		}
		if !r.Evaluated {
			if d.Kind != "" || d.Reasons != nil {
				t.Fatalf("tag %d %+v: inactive tag has decision %+v", i, tg, d)
			}
			continue
		}
		if len(d.Reasons) == 0 || !slices.IsSorted(d.Reasons) {
			t.Fatalf("tag %d %+v: reasons %v empty or unsorted", i, tg, d.Reasons)
		}
		for _, reason := range d.Reasons {
			if d.Kind == policy.KindScan && reason != latest && reason != matches {
				t.Fatalf("tag %d %+v: scan with reason %q", i, tg, reason)
			}
		}
		if referenceAccessory.MatchString(tg.Name) {
			continue
		}
		images = true
		recent := !tg.Created.Before(cutoff)
		if recent && d.Kind != policy.KindScan && d.Kind != policy.KindRetain {
			t.Fatalf("tag %d %+v: recent tag decided %+v", i, tg, d)
		}
		if slices.Contains(d.Reasons, latest) && d.Kind != policy.KindPrune {
			latestKept = true
		}
	}
	if images && !latestKept {
		t.Fatalf("repository with active images has no kept latest tag: %+v", got)
	}
}

var referenceAccessory = regexp.MustCompile(`^sha256-([0-9a-f]{64})\.(?:sig|att|sbom)$`)

// referenceRegexes are the fuzz regexes unanchored, compiled once because compiling under
// coverage instrumentation dominates a fuzz execution; the empty pattern, first, has none.
var referenceRegexes = func() map[string]*regexp.Regexp {
	m := make(map[string]*regexp.Regexp)
	for _, s := range fuzzRegexes[1:] {
		m[s] = regexp.MustCompile(s)
		m[s].Longest()
	}
	return m
}()

// active is the spec's definition, kept apart from policy.Active so that a bug there shows.
func active(t policy.Tag, at time.Time) bool { return t.End == nil || t.End.After(at) }

// referenceEvaluate is the spec written as directly as possible, quadratic and allocating,
// to check EvaluateRepository against. It tests a whole-name match with leftmost-longest
// search instead of anchoring.
func referenceEvaluate(s policy.Settings, at time.Time, tags []policy.Tag) []policy.Result {
	cutoff := at.UTC().AddDate(0, -s.AgeThresholdMonths, 0)
	isImage := func(t policy.Tag) bool {
		return active(t, at) && !referenceAccessory.MatchString(t.Name)
	}
	imageCreated := func(dgst string) time.Time {
		var newest time.Time
		for _, t := range tags {
			if isImage(t) && t.Digest == dgst && t.Created.After(newest) {
				newest = t.Created
			}
		}
		return newest
	}
	var distinct []time.Time
	isDormant := true
	for _, t := range tags {
		if !isImage(t) {
			continue
		}
		c := imageCreated(t.Digest)
		if !slices.ContainsFunc(distinct, c.Equal) {
			distinct = append(distinct, c)
		}
		if !t.Created.Before(cutoff) {
			isDormant = false
		}
	}
	slices.SortFunc(distinct, func(a, b time.Time) int { return b.Compare(a) })
	distinct = distinct[:min(len(distinct), s.KeepLatest)]
	re := referenceRegexes[s.TagRegex]

	decide := func(t policy.Tag) policy.Result {
		recent := !t.Created.Before(cutoff)
		isLatest := slices.ContainsFunc(distinct, imageCreated(t.Digest).Equal)
		match := false
		if re != nil {
			loc := re.FindStringIndex(t.Name)
			match = loc != nil && loc[0] == 0 && loc[1] == len(t.Name)
		}
		switch {
		case recent && isLatest && match:
			return scan(latest, matches)
		case recent && isLatest:
			return scan(latest)
		case recent && match:
			return scan(matches)
		case recent:
			return retain(notSel)
		case isDormant && isLatest:
			return retain(dormant, latest)
		case isDormant:
			return retain(dormant)
		case isLatest:
			return retain(latest)
		default:
			return prune(old)
		}
	}
	out := make([]policy.Result, len(tags))
	for i, t := range tags {
		if isImage(t) {
			out[i] = decide(t)
		}
	}
	for i, t := range tags {
		m := referenceAccessory.FindStringSubmatch(t.Name)
		if !active(t, at) || m == nil {
			continue
		}
		out[i] = prune(orphan)
		for j, subject := range tags {
			if !isImage(subject) || subject.Digest != "sha256:"+m[1] {
				continue
			}
			if out[j].Decision.Kind != policy.KindPrune {
				out[i] = retain(accessory)
				break
			}
			out[i] = prune(accessory)
		}
	}
	return out
}

func FuzzIsAccessory(f *testing.F) {
	f.Add(sig("a", ".sig"))
	f.Add(sig("0", ".sbom"))
	f.Add(sig("F", ".att"))
	f.Add("latest")
	f.Fuzz(func(t *testing.T, name string) {
		subject, ok := policy.IsAccessory(name)
		m := referenceAccessory.FindStringSubmatch(name)
		if ok != (m != nil) || (ok && subject != "sha256:"+m[1]) || (!ok && subject != "") {
			t.Fatalf("IsAccessory(%q) = (%q, %v), reference match %q", name, subject, ok, m)
		}
	})
}
