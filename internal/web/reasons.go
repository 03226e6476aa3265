package web

import (
	"fmt"
	"slices"
	"strings"

	"quaykeeper/internal/policy"
)

// explanations puts every decision the policy can make into the words a person reads, keyed
// by kind and reasons (sorted, comma-joined, as the policy stores them). {age} is the run's
// age threshold ("6 months") and {newest} names its latest images ("the newest image").
var explanations = map[string]string{
	"scan latest_image": "scanned: {newest} of the repository, pushed within {age}",
	"scan tag_matches_regex": "scanned: pushed within {age} and the tag matches the " +
		"tag regex",
	"scan latest_image,tag_matches_regex": "scanned: {newest} of the repository, and the " +
		"tag matches the tag regex",
	"retain not_selected": "kept: pushed within {age} but not {newest} and not matched " +
		"by the tag regex",
	"retain dormant_repository": "kept: the repository had no push in {age}",
	"retain dormant_repository,latest_image": "kept: {newest} of a dormant repository " +
		"(no push in {age})",
	"retain latest_image": "kept: {newest} of the repository, though the tag is older " +
		"than {age}",
	"retain accessory":           "kept: signature/attestation of a kept image",
	"prune accessory":            "pruned: signature/attestation of a pruned image",
	"prune orphan_accessory":     "pruned: signature/attestation of an image that has no tag",
	"prune older_than_threshold": "pruned: older than {age} and not {newest}",
	"prune tag_removed":          "pruned: no longer in the registry",
}

// reasonLabels name the reasons in the screen's reason filter, in the order it lists them.
var reasonLabels = []reasonLabel{
	{policy.ReasonNotSelected, "not selected (recent, not newest, no regex match)"},
	{policy.ReasonDormantRepository, "dormant repository"},
	{policy.ReasonLatestImage, "newest image"},
	{policy.ReasonAccessory, "signature/attestation"},
	{policy.ReasonOlderThanThreshold, "older than the threshold"},
	{policy.ReasonOrphanAccessory, "orphaned signature/attestation"},
	{policy.ReasonTagRemoved, "no longer in the registry"},
	{policy.ReasonTagMatchesRegex, "matches the tag regex"},
}

type reasonLabel struct {
	Reason policy.Reason
	Label  string
}

// explain says in plain words why a tag got its decision, with the settings the decision was
// made with. A combination the table does not know (a newer policy) shows its codes.
func explain(kind policy.Kind, reasons []policy.Reason, s policy.Settings) string {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = string(r)
	}
	slices.Sort(codes)
	joined := strings.Join(codes, ",")
	words, ok := explanations[string(kind)+" "+joined]
	if !ok {
		return fmt.Sprintf("%s: %s", kind, strings.Join(codes, ", "))
	}
	return strings.NewReplacer("{age}", months(s.AgeThresholdMonths),
		"{newest}", newest(s.KeepLatest)).Replace(words)
}

func months(n int) string {
	if n == 1 {
		return "1 month"
	}
	return fmt.Sprintf("%d months", n)
}

func newest(keep int) string {
	if keep <= 1 {
		return "the newest image"
	}
	return fmt.Sprintf("one of the %d newest images", keep)
}

// knownReason reports whether the reason filter offers r.
func knownReason(r policy.Reason) bool {
	return slices.ContainsFunc(reasonLabels, func(l reasonLabel) bool { return l.Reason == r })
}
