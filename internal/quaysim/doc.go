// Package quaysim simulates the part of Red Hat Quay's REST API v1 that a registry inventory
// reads, speaking Quay's wire format (see /work/shared/quay-api.md): GET /api/v1/user/,
// /api/v1/organization/{org}, /api/v1/repository, and for a repository tag/, manifest/{digest}
// and manifest/{digest}/security. It serves a Dataset (LoadDataset, Generate) and is meant for
// tests (httptest.NewServer(quaysim.New(ds, opts))) and for local runs (cmd/quaysim).
//
// The quirks clients get wrong are reproduced on purpose:
//   - An unknown or revoked token is not an error: the request runs anonymous, so the
//     repository list answers 200 with no repositories, and /user/ answers 401.
//   - Repository visibility comes from organization membership (the token's organizations),
//     not from scopes; reading tags, manifests and scans of a private repository also needs
//     repo:read. Permission is checked before existence: a missing repository is 403 for a
//     caller with a token and 401 without. Membership is modelled as read access to every
//     repository of the organization and never as admin rights, so the 404 an org admin
//     would get for a missing repository does not occur.
//   - Repository pages are fixed at 100, keyed by repository id (dataset order), with Fernet
//     next_page tokens that expire after two days; a bad, expired or foreign token silently
//     returns the first page.
//   - The tag endpoint is history: dead rows come back unless onlyActiveTags, pages are
//     offsets (limit clamped to [1,100]) ordered by start_ts descending then name, so a push
//     during a walk shifts rows between pages.
//   - Strict slashes: /api/v1/user redirects (308) to /api/v1/user/, an extra slash is a 404.
//     Unrouted paths get werkzeug's HTML 404, routed misses Quay's JSON not_found.
//   - Booleans are truthy_bool (public=no is true), a browser User-Agent without
//     X-Requested-With gets 400, JWT-shaped bearers get 401 "Issuer ... not configured".
//   - 429s are nginx HTML without Retry-After unless Faults.RetryAfter asks for one.
//   - The security endpoint alone also accepts Basic $oauthtoken:<token>, finds manifests of
//     dead tags, reports manifest lists as unsupported and ignores vulnerabilities=false.
//
// Content the dataset does not hold is derived from digests (see derive.go): OCI manifests
// and indexes, config-history layers with empty-layer entries, two or three children per
// manifest list, and security reports built from four base images and two language
// ecosystems. Known gaps: manifest_data does not hash to its digest; stars, popularity,
// descriptions, teams and admin roles are not modelled (starred listings are empty,
// popularity is 0.0, description null, reversion false, no immutable field); manifest lists
// are never sparse; repo_kind other than image lists nothing; only GET and HEAD are served,
// other methods get 405.
package quaysim
