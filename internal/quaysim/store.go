package quaysim

import (
	"sort"
	"strings"
)

// store is the mutable registry state behind a Server. Every access goes through Server.mu.
type store struct {
	orgs   []*orgState
	byName map[string]*orgState
	// repos holds every repository in ascending id order, the order of the repository list.
	repos   []*repoState
	tokens  map[string]*Token
	nextID  int64
	nextSeq int64
}

type orgState struct {
	name  string
	repos map[string]*repoState
}

type repoState struct {
	id     int64
	org    string
	name   string
	public bool
	// rows is kept in the tag endpoint's order: start_ts descending, then name, then the most
	// recently added row first.
	rows []*tagRow
}

// tagRow is a stored tag row; seq is its insertion number, the tie-breaker of the row order.
type tagRow struct {
	Tag
	seq int64
}

func newStore(ds *Dataset) *store {
	st := &store{byName: map[string]*orgState{}, tokens: map[string]*Token{}, nextID: 1}
	for _, org := range ds.Organizations {
		o := st.addOrg(org.Name)
		for _, repo := range org.Repositories {
			r := st.addRepo(o, repo.Name, repo.IsPublic)
			for _, t := range repo.Tags {
				r.insert(&tagRow{Tag: t, seq: st.seq()})
			}
		}
	}
	for _, tok := range ds.Tokens {
		st.tokens[tok.Token] = &tok
	}
	return st
}

func (st *store) seq() int64 {
	st.nextSeq++
	return st.nextSeq
}

func (st *store) addOrg(name string) *orgState {
	o := &orgState{name: name, repos: map[string]*repoState{}}
	st.orgs = append(st.orgs, o)
	st.byName[name] = o
	return o
}

func (st *store) addRepo(o *orgState, name string, public bool) *repoState {
	r := &repoState{id: st.nextID, org: o.name, name: name, public: public}
	st.nextID++
	o.repos[name] = r
	st.repos = append(st.repos, r)
	return r
}

func (st *store) repo(ns, name string) *repoState {
	o := st.byName[ns]
	if o == nil {
		return nil
	}
	return o.repos[name]
}

func (st *store) removeRepo(r *repoState) {
	delete(st.byName[r.org].repos, r.name)
	i := sort.Search(len(st.repos), func(i int) bool { return st.repos[i].id >= r.id })
	st.repos = append(st.repos[:i], st.repos[i+1:]...)
}

// rowBefore is the tag endpoint's order (oci/tag.py: lifetime_start_ms DESC, name).
func rowBefore(a, b *tagRow) bool {
	if a.StartTS != b.StartTS {
		return a.StartTS > b.StartTS
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.seq > b.seq
}

func (r *repoState) insert(row *tagRow) {
	i := sort.Search(len(r.rows), func(i int) bool { return rowBefore(row, r.rows[i]) })
	r.rows = append(r.rows, nil)
	copy(r.rows[i+1:], r.rows[i:])
	r.rows[i] = row
}

// alive returns the alive row named name, or nil.
func (r *repoState) alive(name string, now int64) *tagRow {
	for _, row := range r.rows {
		if row.Name == name && row.aliveAt(now) {
			return row
		}
	}
	return nil
}

// lastModified is the newest start_ts over alive rows (the repository list's last_modified).
func (r *repoState) lastModified(now int64) (int64, bool) {
	for _, row := range r.rows {
		if row.aliveAt(now) {
			return row.StartTS, true
		}
	}
	return 0, false
}

// cosignSuffixes are the accessory tag kinds of oci/tag.py (COSIGN_TAG_SCHEMA_SUFFIXES).
var cosignSuffixes = []string{".sig", ".att", ".sbom"}

// isCosignTag reports whether name follows cosign's sha256-<hex>.<kind> accessory schema.
func isCosignTag(name string) bool {
	for _, suffix := range cosignSuffixes {
		if rest, ok := strings.CutSuffix(name, suffix); ok {
			hex, ok := strings.CutPrefix(rest, "sha256-")
			return ok && digestPattern.MatchString("sha256:"+hex)
		}
	}
	return false
}

// expire ends an alive row at now. Like oci/tag.py it then expires the cosign accessories of
// the row's digest, unless another alive non-accessory row still references that digest.
func (r *repoState) expire(row *tagRow, now int64) {
	end := now
	row.EndTS = &end
	if isCosignTag(row.Name) {
		return
	}
	for _, other := range r.rows {
		if other.ManifestDigest == row.ManifestDigest && other.aliveAt(now) &&
			!isCosignTag(other.Name) {
			return
		}
	}
	prefix := strings.Replace(row.ManifestDigest, ":", "-", 1)
	for _, other := range r.rows {
		if other.aliveAt(now) && strings.HasPrefix(other.Name, prefix+".") &&
			isCosignTag(other.Name) {
			end := now
			other.EndTS = &end
		}
	}
}

// manifestRef describes what the rows of a repository say about one manifest digest.
type manifestRef struct {
	digest string
	isList bool
	// accessory is the cosign kind (".sig", ".att", ".sbom") when every row referencing the
	// digest is a cosign accessory tag, and "" for images and lists.
	accessory string
	size      int64
	// pushed is the earliest start_ts of the rows that reference the digest (or its list).
	pushed int64
}

// lookupManifest finds digest among the repository's rows, either directly or as a child of a
// manifest list. With allowDead false only alive rows count, like Quay's manifest endpoint;
// the security endpoint passes true.
func (r *repoState) lookupManifest(digest string, now int64, allowDead bool) (manifestRef, bool) {
	ref := manifestRef{digest: digest}
	found, allCosign := false, true
	for _, row := range r.rows {
		if !allowDead && !row.aliveAt(now) {
			continue
		}
		if row.ManifestDigest == digest {
			if !found || row.StartTS < ref.pushed {
				ref.pushed = row.StartTS
			}
			if !found {
				ref.isList, ref.size = row.IsManifestList, row.Size
				if isCosignTag(row.Name) {
					ref.accessory = row.Name[strings.LastIndexByte(row.Name, '.'):]
				}
			}
			allCosign = allCosign && isCosignTag(row.Name)
			found = true
		}
	}
	if found {
		if !allCosign {
			ref.accessory = ""
		}
		return ref, true
	}
	for _, row := range r.rows {
		if !row.IsManifestList || (!allowDead && !row.aliveAt(now)) {
			continue
		}
		for _, child := range childManifests(row.ManifestDigest) {
			if child.digest == digest && (!found || row.StartTS < ref.pushed) {
				ref = manifestRef{digest: digest, size: child.size, pushed: row.StartTS}
				found = true
			}
		}
	}
	return ref, found
}
