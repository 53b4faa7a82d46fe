package arn

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Match reports whether value matches pattern under RAM's wildcard rules:
// "*" matches any run of characters, including none, and "?" matches exactly
// one character. Matching is case-sensitive; see MatchFold, MatchAction and
// MatchResource for RAM's case rules.
//
// Match does not allocate and never backtracks more than one "*". Its time is
// linear in len(pattern)+len(value) when the runs between stars are plain
// ASCII without "?" (each is found with one substring search), and at worst
// O(len(pattern)·len(value)) otherwise (a run with "?" or non-ASCII, and
// the case-folding matchers), never exponential, whatever the input.
func Match(pattern, value string) bool {
	return match(pattern, value, false)
}

// MatchFold is Match with Unicode case folding.
func MatchFold(pattern, value string) bool {
	return match(pattern, value, true)
}

// MatchAction matches a policy action pattern against a request action.
// RAM action names are case-insensitive: "kms:generatedatakey" and
// "kms:Generate*" both match "kms:GenerateDataKey".
func MatchAction(pattern, action string) bool {
	return match(pattern, action, true)
}

// MatchResource matches a policy resource pattern against a resource ARN.
// Resources match case-sensitively, except RAM role and user names, which
// RAM treats case-insensitively (acs:ram::<uid>:role/ECSAdmin is the role
// acs:ram::<uid>:role/ecsadmin).
func MatchResource(pattern, resource string) bool {
	return match(pattern, resource, isRAMIdentity(resource))
}

func isRAMIdentity(s string) bool {
	if !strings.HasPrefix(s, "acs:ram:") && !strings.HasPrefix(s, "acs:sts:") {
		return false
	}
	return strings.Contains(s, ":role/") || strings.Contains(s, ":user/") || strings.Contains(s, ":assumed-role/")
}

// match is the iterative glob matcher: on a mismatch it restarts from the most
// recent "*", one character further into value. Earlier stars never need to be
// revisited, because the latest star can absorb anything they could.
func match(p, v string, fold bool) bool {
	px, vx := 0, 0
	starPx, starVx := -1, 0 // pattern index of the last "*", and where in v it restarts
	for px < len(p) || vx < len(v) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starPx, starVx = px, vx
				px++
				continue
			case '?':
				if vx < len(v) {
					px++
					vx += runeLen(v, vx)
					continue
				}
			default:
				if vx < len(v) {
					if c < utf8.RuneSelf && v[vx] < utf8.RuneSelf {
						if c == v[vx] || (fold && lowerASCII(c) == lowerASCII(v[vx])) {
							px++
							vx++
							continue
						}
					} else {
						pr, pn := utf8.DecodeRuneInString(p[px:])
						vr, vn := utf8.DecodeRuneInString(v[vx:])
						if pr == vr || (fold && equalFoldRune(pr, vr)) {
							px += pn
							vx += vn
							continue
						}
					}
				}
			}
		}
		if starPx >= 0 && starVx < len(v) {
			if !fold {
				// A literal ASCII run after the star: find it with one
				// substring search (or, at the end of the pattern, as the
				// suffix of value) instead of retrying position by position.
				// Then each star costs one search over the part of value it
				// skips, and matching is linear.
				if seg, tail, ok := plainSegment(p[starPx+1:]); ok {
					next := starVx + runeLen(v, starVx)
					if tail {
						return len(v)-len(seg) >= next && strings.HasSuffix(v, seg)
					}
					j := strings.Index(v[next:], seg)
					if j < 0 {
						return false
					}
					px, vx, starVx = starPx+1, next+j, next+j
					continue
				}
			}
			if starPx+1 == len(p) {
				return true // a final "*" absorbs the rest
			}
			starVx += runeLen(v, starVx)
			// A byte follows the star (a final star returned above). When
			// it is a plain byte, jump straight to its next occurrence
			// instead of retrying every position in between.
			if !fold {
				if c := p[starPx+1]; c != '*' && c != '?' && c < utf8.RuneSelf {
					j := strings.IndexByte(v[starVx:], c)
					if j < 0 {
						return false
					}
					starVx += j
				}
			}
			px, vx = starPx+1, starVx
			continue
		}
		return false
	}
	return true
}

// plainSegment returns the run of p before its first "*" if that run is not
// empty and holds only ASCII bytes other than "?"; tail says p has no "*".
func plainSegment(p string) (seg string, tail, ok bool) {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '*':
			return p[:i], false, i > 0
		case c == '?' || c >= utf8.RuneSelf:
			return "", false, false
		}
	}
	return p, true, len(p) > 0
}

func runeLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
