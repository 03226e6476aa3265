package policy

import (
	"slices"
	"time"
)

// outcome is a decision with its reasons, one per way a tag can end up; decisions are built
// from this table so that the hot path computes a small index instead of a slice.
type outcome uint8

const (
	scanLatest outcome = iota
	scanMatches
	scanLatestMatches
	retainNotSelected
	retainDormant
	retainDormantLatest
	retainLatest
	pruneOld
	retainAccessory
	pruneAccessory
	pruneOrphan
)

// outcomes holds each outcome's kind and reasons, the reasons sorted in string order.
var outcomes = [...]struct {
	kind    Kind
	reasons []Reason
}{
	scanLatest:          {KindScan, []Reason{ReasonLatestImage}},
	scanMatches:         {KindScan, []Reason{ReasonTagMatchesRegex}},
	scanLatestMatches:   {KindScan, []Reason{ReasonLatestImage, ReasonTagMatchesRegex}},
	retainNotSelected:   {KindRetain, []Reason{ReasonNotSelected}},
	retainDormant:       {KindRetain, []Reason{ReasonDormantRepository}},
	retainDormantLatest: {KindRetain, []Reason{ReasonDormantRepository, ReasonLatestImage}},
	retainLatest:        {KindRetain, []Reason{ReasonLatestImage}},
	pruneOld:            {KindPrune, []Reason{ReasonOlderThanThreshold}},
	retainAccessory:     {KindRetain, []Reason{ReasonAccessory}},
	pruneAccessory:      {KindPrune, []Reason{ReasonAccessory}},
	pruneOrphan:         {KindPrune, []Reason{ReasonOrphanAccessory}},
}

// Values of scratch.tagImage for tags that are not images.
const (
	inactiveTag  int32 = -1
	accessoryTag int32 = -2
)

// image is one manifest digest of the repository.
type image struct {
	created time.Time
	latest  bool
	// kept is set once any of the image's tags is scanned or retained.
	kept bool
}

// scratch is the working memory of one EvaluateRepository call, reused through Policy's pool.
type scratch struct {
	byDigest map[string]int32
	images   []image
	// tagImage is, per input tag, its index in images, inactiveTag or accessoryTag.
	tagImage []int32
	outcome  []outcome
	times    []time.Time
	// key builds an accessory's subject digest without allocating.
	key []byte
}

func newScratch() *scratch {
	return &scratch{byDigest: make(map[string]int32)}
}

// maxPooledTags bounds the scratch kept for reuse: one huge repository should not make every
// later call clear a huge map.
const maxPooledTags = 1 << 14

// EvaluateRepository decides every tag of one repository at instant at. The result has one
// entry per input tag at the same index; a tag that is not active at at is not evaluated.
// The decisions do not depend on the order of tags.
func (p *Policy) EvaluateRepository(at time.Time, tags []Tag) []Result {
	s := p.scratch.Get().(*scratch)
	defer func() {
		if len(tags) <= maxPooledTags {
			clear(s.byDigest)
			p.scratch.Put(s)
		}
	}()
	s.images = s.images[:0]
	s.tagImage = slices.Grow(s.tagImage[:0], len(tags))[:len(tags)]
	s.outcome = slices.Grow(s.outcome[:0], len(tags))[:len(tags)]

	at = at.UTC()
	cutoff := p.Cutoff(at)
	dormant := s.collectImages(at, cutoff, tags)
	s.markLatest(p.keep)

	nReasons := 0
	for i := range tags {
		idx := s.tagImage[i]
		if idx < 0 {
			continue
		}
		t := &tags[i]
		img := &s.images[idx]
		var o outcome
		// The cases are rules 1 to 5 of the package documentation, in order.
		switch recent := !t.Created.Before(cutoff); {
		case recent:
			o = recentOutcome(img.latest, p.re != nil && p.re.MatchString(t.Name))
		case dormant && img.latest:
			o = retainDormantLatest
		case dormant:
			o = retainDormant
		case img.latest:
			o = retainLatest
		default:
			o = pruneOld
		}
		if outcomes[o].kind != KindPrune {
			img.kept = true
		}
		s.outcome[i] = o
		nReasons += len(outcomes[o].reasons)
	}
	// Accessories go last: their fate needs every subject's decisions.
	for i := range tags {
		if s.tagImage[i] == accessoryTag {
			s.outcome[i] = s.accessoryOutcome(tags[i].Name)
			nReasons += len(outcomes[s.outcome[i]].reasons)
		}
	}

	results := make([]Result, len(tags))
	reasons := make([]Reason, nReasons)
	for i := range tags {
		if s.tagImage[i] == inactiveTag {
			continue
		}
		oc := outcomes[s.outcome[i]]
		// A full slice expression caps each decision's reasons, so an append by the caller
		// reallocates instead of overwriting the next decision's.
		n := copy(reasons, oc.reasons)
		results[i] = Result{
			Decision:  Decision{Kind: oc.kind, Reasons: reasons[:n:n]},
			Evaluated: true,
		}
		reasons = reasons[n:]
	}
	return results
}

// collectImages groups the active non-accessory tags by digest, with each image's created time
// the newest of its tags, and reports whether the repository is dormant.
func (s *scratch) collectImages(at, cutoff time.Time, tags []Tag) (dormant bool) {
	dormant = true
	for i := range tags {
		t := &tags[i]
		if !Active(*t, at) {
			s.tagImage[i] = inactiveTag
			continue
		}
		if _, ok := accessoryHex(t.Name); ok {
			s.tagImage[i] = accessoryTag
			continue
		}
		idx, ok := s.byDigest[t.Digest]
		if !ok {
			idx = int32(len(s.images))
			s.byDigest[t.Digest] = idx
			s.images = append(s.images, image{created: t.Created})
		} else if t.Created.After(s.images[idx].created) {
			s.images[idx].created = t.Created
		}
		s.tagImage[i] = idx
		if !t.Created.Before(cutoff) {
			dormant = false
		}
	}
	return dormant
}

// markLatest marks the images whose created time is among the keep most recent distinct ones.
func (s *scratch) markLatest(keep int) {
	if len(s.images) == 0 {
		return
	}
	s.times = s.times[:0]
	for _, img := range s.images {
		s.times = append(s.times, img.created)
	}
	slices.SortFunc(s.times, func(a, b time.Time) int { return b.Compare(a) })
	threshold := s.times[0]
	for distinct, j := 1, 1; j < len(s.times) && distinct < keep; j++ {
		if s.times[j].Before(threshold) {
			threshold = s.times[j]
			distinct++
		}
	}
	for i := range s.images {
		s.images[i].latest = !s.images[i].created.Before(threshold)
	}
}

func recentOutcome(latest, matches bool) outcome {
	switch {
	case latest && matches:
		return scanLatestMatches
	case latest:
		return scanLatest
	case matches:
		return scanMatches
	default:
		return retainNotSelected
	}
}

// accessoryOutcome gives an accessory its subject's fate; name is known to be an accessory.
func (s *scratch) accessoryOutcome(name string) outcome {
	hex, _ := accessoryHex(name)
	s.key = append(append(s.key[:0], digestPrefix...), hex...)
	idx, ok := s.byDigest[string(s.key)]
	switch {
	case !ok:
		return pruneOrphan
	case s.images[idx].kept:
		return retainAccessory
	default:
		return pruneAccessory
	}
}
