package quay

import (
	"context"
	"net/http"
	"strings"
)

// Observer watches every HTTP attempt the client makes, so that a caller can trace and
// measure Quay calls without this package depending on a telemetry library. It is told the
// method, the route template, the attempt number, the status and the kind of failure: never
// the URL, its query, a header or the token.
type Observer interface {
	// StartRequest is called just before an attempt is sent, after any wait for the
	// Limiter. The attempt is sent with the returned context, and end is called exactly
	// once, when the attempt's answer has been read and decoded or the attempt failed.
	StartRequest(ctx context.Context, req RequestInfo) (_ context.Context,
		end func(RequestResult))
}

// RequestInfo describes one attempt of a request.
type RequestInfo struct {
	// Method is the HTTP method, e.g. GET.
	Method string
	// Host is the registry as scheme://host, like Client.Host.
	Host string
	// Route is the path template, e.g. "/api/v1/repository/{namespace}/{repo}/tag/": the
	// same for every call of one API, so it can name spans and label metrics.
	Route string
	// Attempt counts from 1; an attempt above 1 is a retry of the same request.
	Attempt int
}

// RequestResult is how an attempt ended.
type RequestResult struct {
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Kind classifies the failure; it is empty when the attempt succeeded.
	Kind ErrorKind
}

// Route templates of the calls the client makes, as Quay's API declares them.
const (
	routeUser         = apiPrefix + "/user/"
	routeOrganization = apiPrefix + "/organization/{orgname}"
	routeRepositories = apiPrefix + "/repository"
	routeRepository   = apiPrefix + "/repository/{namespace}/{repo}"
	routeTags         = routeRepository + "/tag/"
	routeManifest     = routeRepository + "/manifest/{digest}"
	routeSecurity     = routeManifest + "/security"
)

// route is the template of the call's path. Tag and manifest reads share an endpoint, so
// the path's tail tells them apart; a repository name may hold slashes, but never ends in
// "/tag/" nor contains "/manifest/" once a digest follows.
func route(cl call) string {
	switch cl.ep {
	case epUser:
		return routeUser
	case epOrganization:
		return routeOrganization
	case epRepositories:
		return routeRepositories
	case epSecurity:
		return routeSecurity
	}
	switch {
	case strings.HasSuffix(cl.path, "/tag/"):
		return routeTags
	case strings.Contains(cl.path, "/manifest/"):
		return routeManifest
	}
	return routeRepository
}

// observe reports an attempt to the Observer, if there is one. It returns the request to
// send, carrying the observer's context, and the function that reports how it ended.
func (c *Client) observe(req *http.Request, cl call, attempt int) (*http.Request,
	func(status int, e *Error)) {
	if c.observer == nil {
		return req, func(int, *Error) {}
	}
	ctx, end := c.observer.StartRequest(req.Context(), RequestInfo{Method: req.Method,
		Host: c.host, Route: route(cl), Attempt: attempt})
	return req.WithContext(ctx), func(status int, e *Error) {
		res := RequestResult{Status: status}
		if e != nil {
			res.Kind = e.Kind
		}
		end(res)
	}
}
