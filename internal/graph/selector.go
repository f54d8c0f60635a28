package graph

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Selector is a parsed EntitySelectorExpression (spec §4.3): one node
// (`id(...)`, `service(...)`) or one edge (`edge(a, b)`).
type Selector struct {
	// Edge selects an edge From -> To; otherwise Node selects nodes.
	Edge     bool
	Node     NodeRef
	From, To NodeRef
	// ByID: the expression was a bare id(...), which forecasts require.
	ByID bool
}

// NodeRef matches nodes by any subset of name, type and account.
type NodeRef struct {
	Name, Type, Account *string
}

// Matches reports whether a node has every field the reference sets.
func (r NodeRef) Matches(n trace.NodeID) bool {
	return (r.Name == nil || *r.Name == n.Name) && (r.Type == nil || *r.Type == n.Type) && (r.Account == nil || *r.Account == n.AccountID)
}

// Matches reports whether the selector selects an entity.
func (s *Selector) Matches(e Entity) bool {
	if s.Edge {
		from, to, ok := e.Edge()
		return ok && s.From.Matches(from) && s.To.Matches(to)
	}
	return !e.IsEdge() && s.Node.Matches(e.Node())
}

// ParseSelector parses an EntitySelectorExpression. Errors say what was
// expected and at which character.
func ParseSelector(src string) (*Selector, error) {
	p := &selParser{src: src}
	sel, err := p.selector()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.src) {
		return nil, p.errorf("unexpected %q after the selector", p.src[p.pos:])
	}
	return sel, nil
}

type selParser struct {
	src string
	pos int
}

func (p *selParser) errorf(format string, args ...any) error {
	return fmt.Errorf("EntitySelectorExpression %q, at character %d: %s", p.src, p.pos+1, fmt.Sprintf(format, args...))
}

func (p *selParser) space() {
	for p.pos < len(p.src) && unicode.IsSpace(rune(p.src[p.pos])) {
		p.pos++
	}
}

func (p *selParser) word() string {
	p.space()
	start := p.pos
	for p.pos < len(p.src) && (unicode.IsLetter(rune(p.src[p.pos])) || p.src[p.pos] == '.' || p.src[p.pos] == '_') {
		p.pos++
	}
	return strings.ToLower(p.src[start:p.pos])
}

func (p *selParser) expect(c byte) error {
	p.space()
	if p.pos >= len(p.src) || p.src[p.pos] != c {
		return p.errorf("expected %q", c)
	}
	p.pos++
	return nil
}

func (p *selParser) peek() byte {
	p.space()
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *selParser) selector() (*Selector, error) {
	switch w := p.word(); w {
	case "id":
		r, err := p.idArgs()
		return &Selector{Node: r, ByID: true}, err
	case "service":
		if err := p.expect('('); err != nil {
			return nil, err
		}
		var r NodeRef
		if p.peek() != ')' {
			var err error
			if r, err = p.nodeRef(); err != nil {
				return nil, err
			}
		}
		return &Selector{Node: r}, p.expect(')')
	case "edge":
		if err := p.expect('('); err != nil {
			return nil, err
		}
		from, err := p.nodeRef()
		if err != nil {
			return nil, err
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		to, err := p.nodeRef()
		if err != nil {
			return nil, err
		}
		return &Selector{Edge: true, From: from, To: to}, p.expect(')')
	case "":
		return nil, p.errorf("expected id(...), service(...) or edge(...)")
	default:
		return nil, p.errorf("%q is not a selector; use id(...), service(...) or edge(...)", w)
	}
}

func (p *selParser) nodeRef() (NodeRef, error) {
	if p.peek() == '"' {
		s, err := p.str()
		return NodeRef{Name: &s}, err
	}
	if w := p.word(); w != "id" {
		return NodeRef{}, p.errorf("expected a quoted service name or id(...)")
	}
	return p.idArgs()
}

func (p *selParser) idArgs() (NodeRef, error) {
	var r NodeRef
	if err := p.expect('('); err != nil {
		return r, err
	}
	for p.peek() != ')' {
		key := p.word()
		if err := p.expect(':'); err != nil {
			return r, err
		}
		v, err := p.str()
		if err != nil {
			return r, err
		}
		switch key {
		case "name":
			r.Name = &v
		case "type":
			r.Type = &v
		case "account.id":
			r.Account = &v
		default:
			return r, p.errorf("id() takes name, type and account.id, not %q", key)
		}
		if p.peek() == ',' {
			p.pos++
		}
	}
	p.pos++
	return r, nil
}

func (p *selParser) str() (string, error) {
	p.space()
	if p.pos >= len(p.src) || p.src[p.pos] != '"' {
		return "", p.errorf("expected a quoted string")
	}
	end := p.pos + 1
	for end < len(p.src) && p.src[end] != '"' {
		if p.src[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(p.src) {
		return "", p.errorf("unterminated string")
	}
	s, err := strconv.Unquote(p.src[p.pos : end+1])
	if err != nil {
		s = p.src[p.pos+1 : end]
	}
	p.pos = end + 1
	return s, nil
}
