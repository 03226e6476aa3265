package quaysim

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"strconv"
)

// response is a complete answer, built while the data lock is held and written after it is
// released, so a slow client never holds up the test hooks.
type response struct {
	status int
	// body is encoded as JSON unless html is set.
	body   any
	html   string
	header http.Header
}

func (resp response) write(w http.ResponseWriter) {
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	if resp.html != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(resp.status)
		_, _ = w.Write([]byte(resp.html))
		return
	}
	// Python's json.dumps leaves <, > and & alone, and Flask-RESTful ends the body with a
	// newline, as Encoder does.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp.body); err != nil {
		http.Error(w, "quaysim: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = w.Write(buf.Bytes())
}

func ok(body any) response { return response{status: http.StatusOK, body: body} }

// apiErrorBody is endpoints/exception.py :: ApiException.to_dict. The payload key comes first,
// as in Quay's dict.
type apiErrorBody struct {
	SessionRequired *bool  `json:"session_required,omitempty"`
	Detail          string `json:"detail"`
	ErrorMessage    string `json:"error_message"`
	ErrorType       string `json:"error_type"`
	Title           string `json:"title"`
	Type            string `json:"type"`
	Status          int    `json:"status"`
}

// apiError builds an ApiException answer. The type URL is absolute, like Flask's
// url_for(..., _external=True), so it names the host the client called.
func apiError(r *http.Request, status int, errType, detail string) response {
	return response{status: status, body: &apiErrorBody{
		Detail: detail, ErrorMessage: detail, ErrorType: errType, Title: errType,
		Type: requestBase(r) + "/api/v1/error/" + errType, Status: status,
	}}
}

func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func notFound(r *http.Request) response {
	return apiError(r, http.StatusNotFound, "not_found", "Not Found")
}

// unauthorized is endpoints/exception.py :: Unauthorized: 401 without a user, 403 with one.
func unauthorized(r *http.Request, id identity) response {
	if id.tok == nil {
		return apiError(r, http.StatusUnauthorized, "invalid_token", "Requires authentication")
	}
	return apiError(r, http.StatusForbidden, "insufficient_scope", "Unauthorized")
}

func invalidRequest(r *http.Request, detail string) response {
	return apiError(r, http.StatusBadRequest, "invalid_request", detail)
}

// message is a Flask-RESTful abort: {"message": ...}, where the message may be an object.
func message(status int, msg any) response {
	return response{status: status, body: map[string]any{"message": msg}}
}

// badRequestText is werkzeug's BadRequest description, which a bare abort(400) carries.
const badRequestText = "The browser (or proxy) sent a request that this server could not " +
	"understand."

// notFoundPage is werkzeug's NotFound page. Unrouted paths get it, not JSON: Flask-RESTful
// leaves 404s of unknown URLs to Flask, and Quay registers no application-wide 404 handler.
func notFoundPage() response {
	return response{status: http.StatusNotFound, html: "<!doctype html>\n<html lang=en>\n" +
		"<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found " +
		"on the server. If you entered the URL manually please check your spelling and try " +
		"again.</p>\n"}
}

// redirect is werkzeug's RequestRedirect for a missing trailing slash.
func redirect(location string) response {
	esc := html.EscapeString(location)
	return response{
		status: http.StatusPermanentRedirect,
		header: http.Header{"Location": {location}},
		html: "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n" +
			"<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target " +
			"URL: <a href=\"" + esc + "\">" + esc + "</a>. If not, click the link.\n",
	}
}

// nginxPage is nginx's built-in error page, which carries no Retry-After of its own.
func nginxPage(status int, title string) response {
	t := strconv.Itoa(status) + " " + title
	return response{status: status, html: "<html>\r\n<head><title>" + t + "</title></head>\r\n" +
		"<body>\r\n<center><h1>" + t + "</h1></center>\r\n" +
		"<hr><center>nginx/1.20.1</center>\r\n</body>\r\n</html>\r\n"}
}

// loadingPage is what Quay's nginx serves for 502 (error_page 502 /502.html).
func loadingPage() response {
	return response{status: http.StatusBadGateway, html: "<html>\n  <head>\n" +
		"    <title>Quay Loading</title>\n  </head>\n  <body>\n" +
		"    <div class=\"information\">\n      <h3>Quay is currently loading</h3>\n" +
		"      <h4><p>Please wait and refresh the page shortly to try again.</p></h4>\n" +
		"    </div>\n  </body>\n</html>\n"}
}
