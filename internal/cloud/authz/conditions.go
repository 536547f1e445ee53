package authz

import (
	"fmt"
	"strings"
	"unicode"
)

// EvaluateCondition decides an ABAC role-assignment condition (Azure's
// conditionVersion 2.0 language) for req. It understands the subset that
// repository-scoped registry permissions use:
//
//	expr    := term { "OR" term }                 (also "||")
//	term    := factor { "AND" factor }            (also "&&")
//	factor  := ("!" | "NOT") factor | "(" expr ")"
//	         | "ActionMatches{'<action pattern>'}"
//	         | "@Request[<attribute>]" <operator> "'<value>'"
//	operator:= StringEquals | StringNotEquals | StringStartsWith |
//	           StringNotStartsWith | StringLike | StringNotLike, each
//	           optionally suffixed IgnoreCase
//
// ActionMatches matches req.Action like a role's action pattern. An
// attribute the request does not carry makes its comparison false. A
// condition outside the subset is an error, and Authorize treats an error
// as a condition that does not hold (fail closed).
func EvaluateCondition(cond string, req Request) (bool, error) {
	toks, err := lexCondition(cond)
	if err != nil {
		return false, err
	}
	p := &condParser{toks: toks, req: req}
	v, err := p.expr()
	if err != nil {
		return false, err
	}
	if p.i != len(p.toks) {
		return false, fmt.Errorf("parse condition: unexpected %q", p.toks[p.i].text)
	}
	return v, nil
}

type condTokKind int

const (
	tokWord condTokKind = iota
	tokString
	tokLParen
	tokRParen
	tokNot
	tokAttr   // @Request[...] / @Resource[...]: text is "Request:<name>"
	tokAction // ActionMatches{'...'}: text is the pattern
)

type condTok struct {
	kind condTokKind
	text string
}

func lexCondition(s string) ([]condTok, error) {
	var out []condTok
	i := 0
	for i < len(s) {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(':
			out = append(out, condTok{kind: tokLParen, text: "("})
			i++
		case c == ')':
			out = append(out, condTok{kind: tokRParen, text: ")"})
			i++
		case c == '!':
			out = append(out, condTok{kind: tokNot, text: "!"})
			i++
		case c == '&' || c == '|':
			if i+1 >= len(s) || s[i+1] != s[i] {
				return nil, fmt.Errorf("parse condition: stray %q at %d", c, i)
			}
			out = append(out, condTok{kind: tokWord, text: map[rune]string{'&': "AND", '|': "OR"}[c]})
			i += 2
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("parse condition: unterminated string at %d", i)
			}
			out = append(out, condTok{kind: tokString, text: s[i+1 : i+1+j]})
			i += j + 2
		case c == '@':
			open := strings.IndexByte(s[i:], '[')
			end := strings.IndexByte(s[i:], ']')
			if open < 0 || end < open {
				return nil, fmt.Errorf("parse condition: malformed attribute at %d", i)
			}
			source := s[i+1 : i+open]
			out = append(out, condTok{kind: tokAttr, text: source + ":" + strings.TrimSpace(s[i+open+1:i+end])})
			i += end + 1
		default:
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("parse condition: unexpected %q at %d", c, i)
			}
			word := s[i:j]
			if strings.EqualFold(word, "ActionMatches") || strings.EqualFold(word, "SubOperationMatches") {
				rest := strings.TrimLeft(s[j:], " ")
				if !strings.HasPrefix(rest, "{'") {
					return nil, fmt.Errorf("parse condition: %s needs {'...'}", word)
				}
				end := strings.Index(rest, "'}")
				if end < 0 {
					return nil, fmt.Errorf("parse condition: unterminated %s", word)
				}
				if strings.EqualFold(word, "SubOperationMatches") {
					return nil, fmt.Errorf("parse condition: SubOperationMatches is not supported")
				}
				out = append(out, condTok{kind: tokAction, text: rest[2:end]})
				i = j + (len(s[j:]) - len(rest)) + end + 2
				continue
			}
			if strings.EqualFold(word, "NOT") {
				out = append(out, condTok{kind: tokNot, text: word})
			} else {
				out = append(out, condTok{kind: tokWord, text: word})
			}
			i = j
		}
	}
	return out, nil
}

type condParser struct {
	toks []condTok
	i    int
	req  Request
}

func (p *condParser) peekWord(w string) bool {
	return p.i < len(p.toks) && p.toks[p.i].kind == tokWord && strings.EqualFold(p.toks[p.i].text, w)
}

func (p *condParser) expr() (bool, error) {
	v, err := p.term()
	if err != nil {
		return false, err
	}
	for p.peekWord("OR") {
		p.i++
		r, err := p.term()
		if err != nil {
			return false, err
		}
		v = v || r
	}
	return v, nil
}

func (p *condParser) term() (bool, error) {
	v, err := p.factor()
	if err != nil {
		return false, err
	}
	for p.peekWord("AND") {
		p.i++
		r, err := p.factor()
		if err != nil {
			return false, err
		}
		v = v && r
	}
	return v, nil
}

func (p *condParser) factor() (bool, error) {
	if p.i >= len(p.toks) {
		return false, fmt.Errorf("parse condition: unexpected end")
	}
	t := p.toks[p.i]
	p.i++
	switch t.kind {
	case tokNot:
		v, err := p.factor()
		return !v, err
	case tokLParen:
		v, err := p.expr()
		if err != nil {
			return false, err
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != tokRParen {
			return false, fmt.Errorf("parse condition: missing )")
		}
		p.i++
		return v, nil
	case tokAction:
		return MatchAction(t.text, p.req.Action), nil
	case tokAttr:
		if p.i+1 >= len(p.toks) || p.toks[p.i].kind != tokWord || p.toks[p.i+1].kind != tokString {
			return false, fmt.Errorf("parse condition: @%s needs an operator and a quoted value", t.text)
		}
		op, want := p.toks[p.i].text, p.toks[p.i+1].text
		p.i += 2
		source, name, _ := strings.Cut(t.text, ":")
		if !strings.EqualFold(source, "Request") {
			return false, fmt.Errorf("parse condition: @%s attributes are not supported", source)
		}
		got, ok := lookupAttr(p.req.Attributes, name)
		return compareString(op, got, want, ok)
	default:
		return false, fmt.Errorf("parse condition: unexpected %q", t.text)
	}
}

func lookupAttr(attrs map[string]string, name string) (string, bool) {
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// compareString applies a String* operator; a missing attribute makes every
// positive comparison false and every negated one true, as Azure does.
func compareString(op, got, want string, present bool) (bool, error) {
	base, fold := strings.CutSuffix(op, "IgnoreCase")
	negate := false
	if b, ok := strings.CutPrefix(base, "StringNot"); ok {
		base, negate = "String"+b, true
	}
	if fold {
		got, want = strings.ToLower(got), strings.ToLower(want)
	}
	var v bool
	switch base {
	case "StringEquals":
		v = got == want
	case "StringStartsWith":
		v = strings.HasPrefix(got, want)
	case "StringLike":
		v = glob(want, got)
	default:
		return false, fmt.Errorf("parse condition: operator %q is not supported", op)
	}
	if !present {
		v = false
	}
	return v != negate, nil
}
