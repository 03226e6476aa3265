package policy

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"sort"
	"strings"
	"unicode/utf8"
)

// describeParseError says where pattern is wrong and how, for the error of parsing it.
func describeParseError(pattern string, err error) string {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return ": " + err.Error()
	}
	switch se.Code {
	case syntax.ErrNestingDepth, syntax.ErrLarge:
		// These judge the expression as a whole, and Expr is all of it.
		return ": " + string(se.Code)
	}
	return fmt.Sprintf(" at position %d: %s: %q", errorPosition(pattern, se), se.Code, se.Expr)
}

// errorPosition returns the 1-based character position in pattern of the text se complains
// about. Expr alone does not locate it: the same text may also occur earlier in a valid place
// ("a*b(*"), and some codes carry the whole pattern as Expr. The parser reads left to right
// and stops at the first error, so once a prefix reaches the offending text it fails the same
// way, and every longer prefix does too; a binary search finds the shortest such prefix,
// which ends where the offending text ends.
func errorPosition(pattern string, se *syntax.Error) int {
	var offset int
	switch se.Code {
	case syntax.ErrTrailingBackslash:
		offset = len(pattern) - 1
	case syntax.ErrMissingParen:
		// No prefix ends at a missing parenthesis; the open one that never closes is the place.
		offset = unclosedParen(pattern)
	case syntax.ErrUnexpectedParen:
		// Expr is the whole prefix, so only the code is compared; the prefix ends with the
		// parenthesis.
		offset = shortestFailing(pattern, func(e *syntax.Error) bool {
			return e.Code == se.Code
		}) - 1
	default:
		offset = shortestFailing(pattern, func(e *syntax.Error) bool {
			return e.Code == se.Code && e.Expr == se.Expr
		}) - len(se.Expr)
	}
	return utf8.RuneCountInString(pattern[:offset]) + 1
}

// shortestFailing returns the length of the shortest prefix of pattern whose parse error
// satisfies same; the whole pattern does.
func shortestFailing(pattern string, same func(*syntax.Error) bool) int {
	return 1 + sort.Search(len(pattern)-1, func(i int) bool {
		_, err := syntax.Parse(pattern[:i+1], syntax.Perl)
		var e *syntax.Error
		return errors.As(err, &e) && same(e)
	})
}

// unclosedParen returns the byte offset of the first "(" of pattern that is never closed,
// reading it as RE2 does: escapes, \Q...\E literals and character classes hold no groups.
// pattern has no error but unclosed groups, so its escapes and classes are complete.
func unclosedParen(pattern string) int {
	var open []int
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			if strings.HasPrefix(pattern[i:], `\Q`) {
				end := strings.Index(pattern[i+2:], `\E`)
				if end < 0 {
					i = len(pattern)
					break
				}
				i += 2 + end + 1
				break
			}
			// One byte suffices: the rest of a longer escape, \x{41} or \p{Greek}, holds no
			// parenthesis or bracket.
			i++
		case '[':
			i = classEnd(pattern, i)
		case '(':
			open = append(open, i)
		case ')':
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	// A reading that differs from the parser's must not crash validation: point at the start.
	if len(open) == 0 {
		return 0
	}
	return open[0]
}

// classEnd returns the offset of the "]" closing the character class that opens at start.
func classEnd(pattern string, start int) int {
	i := start + 1
	if i < len(pattern) && pattern[i] == '^' {
		i++
	}
	// A "]" right after the opening is a literal member.
	if i < len(pattern) && pattern[i] == ']' {
		i++
	}
	for ; i < len(pattern); i++ {
		switch {
		case pattern[i] == '\\':
			i++
		case strings.HasPrefix(pattern[i:], "[:"):
			if end := strings.Index(pattern[i+2:], ":]"); end >= 0 {
				i += 2 + end + 1
			}
		case pattern[i] == ']':
			return i
		}
	}
	return i
}
