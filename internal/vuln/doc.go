// Package vuln turns Quay's security reports into findings, ranks them and judges images
// against an organization's compliance policies. It is pure: no clock, no I/O; the caller
// passes the evaluation instant, so the same inputs always give the same scores, ranks and
// verdicts.
//
// Severity is ordered Unknown < Negligible < Low < Medium < High < Critical. A finding's
// severity is Quay's; when Quay says Unknown, or sends a word that is none of the six, and the
// finding has a CVSS score, the severity is the score's band (below 4 Low, below 7 Medium,
// below 9 High, else Critical, so a 10.0 that Quay leaves Unknown is Critical). The word Quay
// sent is kept as the raw severity.
//
// The priority score of a finding, from 0 to 100, is
//
//	score = 15·S + C + 10·F + 5·E
//
// where
//
//   - S is the severity rank: Unknown 0, Negligible 1, Low 2, Medium 3, High 4, Critical 5.
//   - C is the CVSS v3 base score, 0 to 10; 0 when Quay has none.
//   - F is 1 when Quay names a fixed-in version, else 0: a fix makes a finding actionable.
//   - E is the exposure, min(days, 365) / 365, where days are the whole days from the first
//     push of the earliest image that carries the finding to the evaluation instant.
//
// Severity weighs most: one step (15 points) is worth more than the CVSS score (at most 10),
// a fix (10) or exposure (at most 5) alone: only a combination of them can lift a finding
// above one of the next severity, e.g. a fix with a CVSS score above 5.
//
// The score is rounded to two decimals. Equal scores are ordered by severity, CVSS and
// exposure (each descending), then by vulnerability, package and version name.
//
// Compliance rules, each evaluated per image (a manifest digest within a repository; a
// manifest list is judged through its platform manifests):
//
//   - fixable_severity: no finding at or above the threshold severity that has a fix.
//   - max_image_age: the image was first pushed at most max_image_age_days days ago.
//   - latest_scanned: a latest image (a tag with reason latest_image) has scan status scanned
//     for every platform manifest; queued, failed, unsupported and the rest fail.
package vuln
