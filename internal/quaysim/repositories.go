package quaysim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// reposPerPage is repository_models_pre_oci.py :: REPOS_PER_PAGE; clients cannot change it.
const reposPerPage = 100

type repoView struct {
	Namespace   string  `json:"namespace"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	IsPublic    bool    `json:"is_public"`
	Kind        string  `json:"kind"`
	State       string  `json:"state"`
	// LastModified and Popularity are raw so that "present but null" and Python's 0.0 survive.
	LastModified json.RawMessage `json:"last_modified,omitempty"`
	Popularity   json.RawMessage `json:"popularity,omitempty"`
	IsStarred    *bool           `json:"is_starred,omitempty"`
}

type repoListView struct {
	Repositories []repoView `json:"repositories"`
	NextPage     string     `json:"next_page,omitempty"`
}

// listRepositories is endpoints/api/repository.py :: RepositoryList.get with
// PreOCIModel.get_repo_list: keyset pages of 100 by repository id, visibility from
// membership (not scopes), and a page token that silently restarts when it is unusable.
func (s *Server) listRepositories(r *http.Request, id identity, now time.Time) response {
	q := r.URL.Query()
	namespace := q.Get("namespace")
	starred, public := truthy(q, "starred", false), truthy(q, "public", false)
	if namespace == "" && !starred && !public {
		return invalidRequest(r, "namespace, starred or public are required for this API call")
	}
	if starred && id.tok == nil {
		return message(http.StatusBadRequest, badRequestText)
	}
	view := repoListView{Repositories: []repoView{}}
	kind := "image"
	if q.Has("repo_kind") {
		kind = q.Get("repo_kind")
	}
	// Stars are not in the dataset, so the starred listing is always empty.
	if starred || kind != "image" {
		return ok(view)
	}
	start, _ := s.decodePageToken(q.Get("next_page"), now)
	lastModified, popularity := truthy(q, "last_modified", false), truthy(q, "popularity", false)
	for _, repo := range s.st.repos {
		if repo.id < start || (namespace != "" && repo.org != namespace) ||
			!(id.memberOf(repo.org) || (public && repo.public)) {
			continue
		}
		if len(view.Repositories) == reposPerPage {
			view.NextPage = s.encodePageToken(repo.id, now)
			break
		}
		rv := repoView{Namespace: repo.org, Name: repo.name, IsPublic: repo.public,
			Kind: "image", State: "NORMAL"}
		if lastModified {
			rv.LastModified = json.RawMessage("null")
			if ts, ok := repo.lastModified(now.Unix()); ok {
				rv.LastModified = json.RawMessage(strconv.FormatInt(ts, 10))
			}
		}
		if popularity {
			// Action counts are not simulated.
			rv.Popularity = json.RawMessage("0.0")
		}
		if id.tok != nil {
			starred := false
			rv.IsStarred = &starred
		}
		view.Repositories = append(view.Repositories, rv)
	}
	return ok(view)
}
