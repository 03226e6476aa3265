// Package policy decides the fate of every active tag of a repository: scanned, retained
// unscanned, or pruned from the inventory. It is pure and deterministic: no clock, no I/O, and
// the same settings, instant and tags always give the same decisions, whatever their order.
//
// The spec, per organization, evaluated at an instant T in UTC:
//
//   - cutoff = T shifted back age_threshold_months (m) calendar months with
//     time.AddDate(0, -m, 0) in UTC, so 31 August minus 6 months is 3 March.
//   - A tag is active if it has no end_ts or end_ts > T. Only active tags are evaluated.
//   - created(tag) is its start_ts. A tag is recent if created >= cutoff.
//   - An image is a manifest digest within a repository; its created time is the newest
//     created among its active tags there.
//   - The latest images of a repository are all images whose created time is among its
//     keep_latest (k) most recent distinct image created times, so a multi-arch push of several
//     digests in the same second gives several latest images. A tag is latest if its digest is
//     a latest image.
//   - A repository is dormant if none of its active tags is recent.
//   - A tag matches if tag_regex is set and matches the whole tag name (anchored, RE2).
//
// Each active tag gets exactly one decision, by the first rule that applies:
//
//  1. recent and (latest or matches): scan, reasons latest_image and/or tag_matches_regex
//  2. recent: retain, reason not_selected
//  3. repository dormant: retain, reason dormant_repository (+ latest_image if latest)
//  4. latest: retain, reason latest_image
//  5. otherwise: prune, reason older_than_threshold
//
// Cosign signature, attestation and SBOM tags (sha256-<64 lowercase hex>.sig, .att, .sbom)
// are accessories, not images: they are left out of the created times, the latest ranking and
// the dormancy test. Each takes the fate of its subject, the digest named in the tag, judged
// by the active non-accessory tags of that digest in the repository: if any is scanned or
// retained, the accessory is retained (reason accessory); if all are pruned, it is pruned
// (reason accessory); if there is none, it is pruned as an orphan (reason orphan_accessory).
//
// A tag that a complete crawl no longer lists as active is pruned with reason tag_removed;
// the caller assigns that, EvaluateRepository never does.
package policy

import "time"

// Kind is what happens to a tag.
type Kind string

// The kinds of decision.
const (
	// KindScan means the tag is kept in the inventory and its image is scanned.
	KindScan Kind = "scan"
	// KindRetain means the tag is kept in the inventory without scanning.
	KindRetain Kind = "retain"
	// KindPrune means the tag is dropped from the inventory.
	KindPrune Kind = "prune"
)

// Reason explains a decision. The values are stable: they are stored and shown to users.
type Reason string

// The reasons a decision can carry.
const (
	// ReasonLatestImage: the tag's digest is one of the repository's latest images.
	ReasonLatestImage Reason = "latest_image"
	// ReasonTagMatchesRegex: the whole tag name matches the organization's tag regex.
	ReasonTagMatchesRegex Reason = "tag_matches_regex"
	// ReasonNotSelected: the tag is recent but neither latest nor matching.
	ReasonNotSelected Reason = "not_selected"
	// ReasonDormantRepository: no active tag of the repository is recent.
	ReasonDormantRepository Reason = "dormant_repository"
	// ReasonOlderThanThreshold: the tag is older than the cutoff and nothing keeps it.
	ReasonOlderThanThreshold Reason = "older_than_threshold"
	// ReasonAccessory: a cosign accessory that follows its subject's fate.
	ReasonAccessory Reason = "accessory"
	// ReasonOrphanAccessory: a cosign accessory whose subject has no active tag.
	ReasonOrphanAccessory Reason = "orphan_accessory"
	// ReasonTagRemoved: a complete crawl no longer lists the tag as active. The caller assigns
	// it; EvaluateRepository never does.
	ReasonTagRemoved Reason = "tag_removed"
)

// Tag is one tag of one repository as the crawl stored it.
type Tag struct {
	// Name is the tag name, e.g. "v1.2.3" or "sha256-<hex>.sig".
	Name string
	// Digest is the manifest digest the tag points to, "sha256:<hex>".
	Digest string
	// Created is the tag's start_ts.
	Created time.Time
	// End is the tag's end_ts; nil means the tag has no end.
	End *time.Time
}

// Decision is the fate of one tag.
type Decision struct {
	// Kind is scan, retain or prune.
	Kind Kind
	// Reasons is never empty and sorted ascending in string order. Each call to
	// EvaluateRepository returns fresh reason storage and no two decisions share it, so a
	// caller may modify or append to Reasons without affecting any other decision.
	Reasons []Reason
}

// Result is the outcome for one input tag of EvaluateRepository.
type Result struct {
	// Decision is set only when Evaluated is true.
	Decision Decision
	// Evaluated is false for a tag that is not active at the evaluation instant.
	Evaluated bool
}

// Active reports whether the tag is active at at: it has no end, or its end is after at.
func Active(t Tag, at time.Time) bool {
	return t.End == nil || t.End.After(at)
}

// IsAccessory reports whether a tag name is a cosign signature, attestation or SBOM tag,
// sha256-<64 lowercase hex>.sig, .att or .sbom, and returns its subject digest
// "sha256:<hex>". Any other name, e.g. with uppercase hex or a .sig2 suffix, is an ordinary
// tag.
func IsAccessory(name string) (subject string, ok bool) {
	hex, ok := accessoryHex(name)
	if !ok {
		return "", false
	}
	return digestPrefix + hex, true
}

const (
	accessoryPrefix = "sha256-"
	digestPrefix    = "sha256:"
	hexLen          = 64
)

// accessoryHex is IsAccessory without building the subject digest, so the hot path does not
// allocate.
func accessoryHex(name string) (string, bool) {
	end := len(accessoryPrefix) + hexLen
	if len(name) <= end || name[:len(accessoryPrefix)] != accessoryPrefix {
		return "", false
	}
	switch name[end:] {
	case ".sig", ".att", ".sbom":
	default:
		return "", false
	}
	hex := name[len(accessoryPrefix):end]
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return hex, true
}
