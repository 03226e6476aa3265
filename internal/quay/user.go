package quay

import (
	"context"
	"fmt"
	"net/url"
)

// User is who the token belongs to.
type User struct {
	Username string
	// Organizations are the organizations the user is a team member of, plus the registry's
	// public namespaces.
	Organizations []string
}

// WhoAmI returns the token's user (GET /api/v1/user/). Call it before listing anything: Quay
// runs a request with a bad token as anonymous, so a listing comes back empty instead of
// failing, while this call answers 401 (also when the token lacks "Read User Information").
func (c *Client) WhoAmI(ctx context.Context) (User, error) {
	var body struct {
		Username      *string `json:"username"`
		Organizations []struct {
			Name string `json:"name"`
		} `json:"organizations"`
	}
	cl := call{ep: epUser, subject: "the token's user", path: "/user/"}
	err := c.get(ctx, cl, &body, func() *Error {
		if body.Username == nil || *body.Username == "" {
			return malformed(`the body has no "username"`)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	u := User{Username: *body.Username, Organizations: make([]string, 0, len(body.Organizations))}
	for _, o := range body.Organizations {
		u.Organizations = append(u.Organizations, o.Name)
	}
	return u, nil
}

// Organization checks that an organization exists (GET /api/v1/organization/{org}). A 404,
// also the answer for a user namespace, is an error of KindNotFound naming the organization.
// It tells nothing about membership: a read-only token sees is_member false even for members.
func (c *Client) Organization(ctx context.Context, name string) error {
	if err := checkSegment("organization", name, name); err != nil {
		return err
	}
	var body struct {
		Name *string `json:"name"`
	}
	cl := call{
		ep:      epOrganization,
		subject: fmt.Sprintf("organization %q", name),
		path:    "/organization/" + url.PathEscape(name),
	}
	return c.get(ctx, cl, &body, func() *Error {
		if body.Name == nil || *body.Name == "" {
			return malformed(`the body has no "name"`)
		}
		return nil
	})
}
