package quaysim

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"strconv"
)

// avatarColors is Quay's AVATAR_COLORS default (config.py).
var avatarColors = []string{
	"#969696", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
	"#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
	"#bcbd22", "#1f77b4", "#17becf", "#9edae5", "#393b79", "#5254a3", "#6b6ecf", "#9c9ede",
	"#9ecae1", "#31a354", "#b5cf6b", "#a1d99b", "#8c6d31", "#ad494a", "#e7ba52", "#a55194",
}

type avatarView struct {
	Name  string `json:"name"`
	Hash  string `json:"hash"`
	Color string `json:"color"`
	Kind  string `json:"kind"`
}

// avatar is avatars/avatars.py :: BaseAvatar.get_data. Quay hashes the e-mail address; the
// dataset has none, so the name stands in, as Quay does for users without one.
func avatar(name, kind string) avatarView {
	sum := md5.Sum([]byte(name))
	h := hex.EncodeToString(sum[:])
	// Two hex digits cover the 32 colors (ceil(log16(32)) = 2).
	n, _ := strconv.ParseUint(h[:2], 16, 64)
	return avatarView{Name: name, Hash: h, Color: avatarColors[int(n)%len(avatarColors)],
		Kind: kind}
}

type userView struct {
	Anonymous     bool          `json:"anonymous"`
	Username      string        `json:"username"`
	Avatar        avatarView    `json:"avatar"`
	Organizations []userOrgView `json:"organizations"`
}

type userOrgView struct {
	Name          string     `json:"name"`
	Avatar        avatarView `json:"avatar"`
	CanCreateRepo bool       `json:"can_create_repo"`
	Public        bool       `json:"public"`
}

// getUser is endpoints/api/user.py :: User.get for a token without user:admin: the fields
// that need user:admin (email and the rest) are never present.
func (s *Server) getUser(r *http.Request, id identity) response {
	if id.tok == nil || !id.hasScope("user:read") {
		f := false
		resp := apiError(r, http.StatusUnauthorized, "invalid_token", "Requires authentication")
		resp.body.(*apiErrorBody).SessionRequired = &f
		return resp
	}
	view := userView{Username: id.tok.User, Avatar: avatar(id.tok.User, "user"),
		Organizations: []userOrgView{}}
	for _, o := range s.st.orgs {
		if id.memberOf(o.name) {
			view.Organizations = append(view.Organizations, userOrgView{
				// CreateRepositoryPermission needs an admin or creator role, which the
				// dataset does not model.
				Name: o.name, Avatar: avatar(o.name, "org"), CanCreateRepo: false,
			})
		}
	}
	return ok(view)
}

type orgView struct {
	Name         string              `json:"name"`
	Email        string              `json:"email"`
	Avatar       avatarView          `json:"avatar"`
	IsAdmin      bool                `json:"is_admin"`
	IsMember     bool                `json:"is_member"`
	Teams        map[string]teamView `json:"teams,omitempty"`
	OrderedTeams []string            `json:"ordered_teams,omitempty"`
}

type teamView struct {
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Role        string     `json:"role"`
	Avatar      avatarView `json:"avatar"`
	CanView     bool       `json:"can_view"`
	RepoCount   int        `json:"repo_count"`
	MemberCount int        `json:"member_count"`
	IsSynced    bool       `json:"is_synced"`
}

// getOrganization is endpoints/api/organization.py :: Organization.get, which checks no
// permission. OrganizationMemberPermission needs a team role, and scopes cap team roles at
// none unless the token has repo:create or org:admin, so only such member tokens see
// is_member true and the teams. Teams are not in the dataset: a member sees one owners team.
// Admin rights are not modelled, so is_admin is always false.
func (s *Server) getOrganization(r *http.Request, id identity, name string) response {
	o := s.st.byName[name]
	if o == nil {
		return notFound(r)
	}
	view := orgView{Name: o.name, Avatar: avatar(o.name, "user")}
	if id.memberOf(o.name) && (id.hasScope("repo:create") || id.hasScope("org:admin")) {
		view.IsMember = true
		view.Teams = map[string]teamView{"owners": {
			Name: "owners", Role: "admin", Avatar: avatar("owners", "team"),
			RepoCount: 0, MemberCount: 1,
		}}
		view.OrderedTeams = []string{"owners"}
	}
	return ok(view)
}
