package quaysim

import (
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// truthy is util/parsing.py :: truthy_bool: anything but these spellings of false is true,
// so public=no means public. An absent parameter takes the default.
func truthy(q url.Values, name string, def bool) bool {
	if !q.Has(name) {
		return def
	}
	switch q.Get(name) {
	case "false", "False", "FALSE", "0", "", "null":
		return false
	}
	return true
}

// intParam parses an integer query parameter like Python's int(): surrounding whitespace and
// a sign are allowed, and values beyond int64 saturate instead of failing, since Python
// integers do not overflow. ok is false when the value is not an integer at all.
func intParam(q url.Values, name string, def int64) (v int64, ok bool) {
	if !q.Has(name) {
		return def, true
	}
	raw := strings.TrimSpace(q.Get(name))
	v, err := strconv.ParseInt(raw, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		if strings.HasPrefix(raw, "-") {
			return math.MinInt64, true
		}
		return math.MaxInt64, true
	}
	return v, err == nil
}
