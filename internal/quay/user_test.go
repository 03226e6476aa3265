package quay

import (
	"context"
	"slices"
	"testing"
)

func TestWhoAmI(t *testing.T) {
	hs := newHarness(t, expect(t, "/api/v1/user/", "", userBody))
	u, err := hs.c.WhoAmI(context.Background())
	if err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	if u.Username != "alice" || !slices.Equal(u.Organizations, []string{"acme"}) {
		t.Errorf("user %+v", u)
	}

	hs = newHarness(t, jsonOK(`{"anonymous": false, "username": "bob"}`))
	u, err = hs.c.WhoAmI(context.Background())
	if err != nil || u.Organizations == nil || len(u.Organizations) != 0 {
		t.Errorf("user %+v, %v; want bob without organizations", u, err)
	}

	hs = newHarness(t, jsonOK(`{"anonymous": true}`))
	_, err = hs.c.WhoAmI(context.Background())
	wantKind(t, err, KindMalformed)
	wantText(t, err, `the body has no "username"`)
}

func TestOrganization(t *testing.T) {
	body := `{"name": "acme", "email": "", "avatar": {"name": "acme", "hash": "x", ` +
		`"color": "#000", "kind": "user"}, "is_admin": false, "is_member": false}`
	hs := newHarness(t, expect(t, "/api/v1/organization/acme", "", body))
	if err := hs.c.Organization(context.Background(), "acme"); err != nil {
		t.Fatalf("Organization: %v", err)
	}

	hs = newHarness(t, jsonOK(`{"email": ""}`))
	err := hs.c.Organization(context.Background(), "acme")
	wantKind(t, err, KindMalformed)
	wantText(t, err, `the body has no "name"`)
}
