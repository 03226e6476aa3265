package quaysim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// history accumulates the tag rows of one repository, event by event in time order.
type history struct {
	rng  *rand.Rand
	now  int64
	size int64 // the repository's typical image size
	rows []Tag

	major, minor, patch int
	// latest is the index of the alive "latest" row, or -1.
	latest int
	pr     int
	names  map[string]bool
}

func newHistory(rng *rand.Rand, now, size int64) *history {
	return &history{rng: rng, now: now, size: size, major: 1, latest: -1,
		pr: 100 + rng.IntN(2900), names: map[string]bool{}}
}

// event adds what happens at time t: a release, a plain commit build, a nightly or a pull
// request build.
func (h *history) event(t int64) {
	switch u := h.rng.Float64(); {
	case u < 0.30:
		h.release(t)
	case u < 0.50:
		h.commitBuild(t)
	case u < 0.70:
		h.nightly(t)
	default:
		h.pullRequest(t)
	}
}

func (h *history) add(t Tag) int {
	h.rows = append(h.rows, t)
	h.names[t.Name] = true
	return len(h.rows) - 1
}

func (h *history) digest() string {
	return digestOf("generated", strconv.FormatUint(h.rng.Uint64(), 16))
}

func (h *history) imageSize() int64 {
	return int64(float64(h.size) * (0.9 + 0.2*h.rng.Float64()))
}

// shaName is an unused abbreviated git commit id of 7 to 12 hex digits.
func (h *history) shaName() string {
	for {
		name := fmt.Sprintf("%016x", h.rng.Uint64())[:7+h.rng.IntN(6)]
		if !h.names[name] {
			return name
		}
	}
}

// endLater ends row i between lo and hi seconds after its start, unless that is still in the
// future (the tag has not been deleted yet).
func (h *history) endLater(i int, lo, hi int64) {
	end := h.rows[i].StartTS + lo + h.rng.Int64N(hi-lo)
	if end < h.now {
		h.rows[i].EndTS = &end
	}
}

// release publishes a new version: the version tag, usually a commit tag on the same digest,
// latest moved onto it, arch tags for multi-arch lists and sometimes cosign accessories.
func (h *history) release(t int64) {
	switch u := h.rng.Float64(); {
	case u < 0.03:
		h.major, h.minor, h.patch = h.major+1, 0, 0
	case u < 0.23:
		h.minor, h.patch = h.minor+1, 0
	default:
		h.patch++
	}
	version := fmt.Sprintf("v%d.%d.%d", h.major, h.minor, h.patch)
	img := Tag{ManifestDigest: h.digest(), StartTS: t, IsManifestList: h.rng.Float64() < 0.3}
	if !img.IsManifestList {
		img.Size = h.imageSize()
	}
	rel := img
	rel.Name = version
	if i := h.add(rel); h.rng.Float64() < 0.08 {
		h.endLater(i, day, 60*day)
	}
	if h.rng.Float64() < 0.6 {
		sha := img
		sha.Name = h.shaName()
		h.add(sha)
	}
	if h.latest >= 0 {
		end := t
		h.rows[h.latest].EndTS = &end
	}
	latest := img
	latest.Name = "latest"
	h.latest = h.add(latest)
	if img.IsManifestList && h.rng.Float64() < 0.7 {
		for _, arch := range []string{"amd64", "arm64"} {
			c, _ := childFor(img.ManifestDigest, arch)
			h.add(Tag{Name: version + "-" + arch, ManifestDigest: c.digest, StartTS: t,
				Size: c.size})
		}
	}
	if h.rng.Float64() < 0.4 {
		h.accessory(img.ManifestDigest, ".sig", t+30)
	}
	if h.rng.Float64() < 0.2 {
		h.accessory(img.ManifestDigest, ".att", t+45)
	}
}

// accessory pushes a cosign signature or attestation for subject: a small artifact tagged
// sha256-<subject hex>.<kind>.
func (h *history) accessory(subject, kind string, t int64) {
	h.add(Tag{Name: "sha256-" + subject[len("sha256:"):] + kind, ManifestDigest: h.digest(),
		StartTS: t, Size: 300 + h.rng.Int64N(2200)})
}

// commitBuild is a build tagged only with its commit; some are cleaned up later.
func (h *history) commitBuild(t int64) {
	i := h.add(Tag{Name: h.shaName(), ManifestDigest: h.digest(), StartTS: t,
		Size: h.imageSize()})
	if h.rng.Float64() < 0.3 {
		h.endLater(i, 7*day, 90*day)
	}
}

// nightly is the day's nightly build, which expires two weeks after its push: dead when that
// has passed, a scheduled expiry when it has not.
func (h *history) nightly(t int64) {
	name := "nightly-" + time.Unix(t, 0).UTC().Format("20060102")
	if h.names[name] {
		h.commitBuild(t)
		return
	}
	end := t + 14*day
	h.add(Tag{Name: name, ManifestDigest: h.digest(), StartTS: t, EndTS: &end,
		Size: h.imageSize()})
}

// pullRequest is a pull request build: most are deleted once merged, some carry a 30-day
// expiry, the rest linger.
func (h *history) pullRequest(t int64) {
	h.pr += 1 + h.rng.IntN(15)
	i := h.add(Tag{Name: fmt.Sprintf("pr-%d", h.pr), ManifestDigest: h.digest(), StartTS: t,
		Size: h.imageSize()})
	switch u := h.rng.Float64(); {
	case u < 0.6:
		h.endLater(i, 3600, 10*day)
	case u < 0.75:
		end := t + 30*day
		h.rows[i].EndTS = &end
	}
}
