package quaysim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"sync"
)

// Everything the dataset does not store (manifest bodies, layers, child manifests, scan
// results) is derived from digests by hashing, so it is the same on every request, in every
// process and for every seed.

// hashOf hashes the parts, separated so that ("ab","c") and ("a","bc") differ.
func hashOf(parts ...string) [32]byte {
	return sha256.Sum256([]byte(strings.Join(parts, "\x00")))
}

// unit maps the parts to a number in [0, 1).
func unit(parts ...string) float64 {
	h := hashOf(parts...)
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}

// pick maps the parts to an integer in [0, n).
func pick(n int, parts ...string) int {
	return int(unit(parts...) * float64(n))
}

// digestOf derives a sha256 digest string from the parts.
func digestOf(parts ...string) string {
	h := hashOf(parts...)
	return "sha256:" + hex.EncodeToString(h[:])
}

// imageSize derives a compressed image size between 10 MB and 800 MB, log-uniform so that
// small images are as common as large ones.
func imageSize(digest string) int64 {
	const low, high = 10e6, 800e6
	return int64(low * math.Pow(high/low, unit(digest, "size")))
}

// platform is an image platform in an OCI index.
type platform struct {
	arch, variant string
}

// platforms are the architectures of derived manifest lists; a list has the first two or three.
var platforms = []platform{{"amd64", ""}, {"arm64", "v8"}, {"ppc64le", ""}, {"s390x", ""}}

// childManifest is an entry of a derived manifest list.
type childManifest struct {
	digest   string
	platform platform
	size     int64
}

var childCache sync.Map // list digest -> []childManifest

// childManifests derives the child manifests of a manifest list from its digest. The generator
// uses the same function, so arch-suffixed tags point at real children of their list.
func childManifests(list string) []childManifest {
	if v, ok := childCache.Load(list); ok {
		return v.([]childManifest)
	}
	n := 2 + pick(2, list, "children")
	out := make([]childManifest, n)
	for i := range out {
		p := platforms[i]
		d := digestOf(list, "child", p.arch)
		out[i] = childManifest{digest: d, platform: p, size: imageSize(d)}
	}
	childCache.Store(list, out)
	return out
}

// childFor returns the child of list built for arch.
func childFor(list, arch string) (childManifest, bool) {
	for _, c := range childManifests(list) {
		if c.platform.arch == arch {
			return c, true
		}
	}
	return childManifest{}, false
}
