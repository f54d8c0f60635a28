package filter

import (
	"encoding/json"
	"strings"
)

// Parsing of the complex keywords: service(), edge(), id(), group.name and
// group.arn, rootcause.* (spec §4.1).

// parseBody parses an optional `{ expr }` in a new scope.
func (p *parser) parseBody(s scope) (node, *Error) {
	t := p.peek()
	if t.kind != tLBrace {
		return nil, nil
	}
	p.next()
	if err := p.enter(t); err != nil {
		return nil, err
	}
	saved := p.scope
	p.scope = s
	if p.peek().kind == tRBrace {
		return nil, errAt(p.peek().pos, "expected a filter inside { } but found '}'")
	}
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tRBrace {
		return nil, errAt(p.peek().pos, "expected '}' to close the '{' but found %s", p.peek())
	}
	p.next()
	p.scope = saved
	p.depth--
	return x, nil
}

func (p *parser) parseService(t token) (node, *Error) {
	if p.scope != scopeTrace {
		return nil, errAt(t.pos, "service() cannot be used inside %s", p.scope)
	}
	if _, err := p.expect(tLParen, "'('", t); err != nil {
		return nil, err
	}
	n := &serviceNode{}
	if p.peek().kind != tRParen {
		ref, err := p.parseRef(t)
		if err != nil {
			return nil, err
		}
		n.ref = &ref
	}
	if _, err := p.expect(tRParen, "')'", token{kind: tIdent, text: "the service"}); err != nil {
		return nil, err
	}
	body, err := p.parseBody(scopeNode)
	if err != nil {
		return nil, err
	}
	n.body = body
	return n, nil
}

func (p *parser) parseEdge(t token) (node, *Error) {
	if p.scope != scopeTrace {
		return nil, errAt(t.pos, "edge() cannot be used inside %s", p.scope)
	}
	if _, err := p.expect(tLParen, "'('", t); err != nil {
		return nil, err
	}
	from, err := p.parseRef(t)
	if err != nil {
		return nil, err
	}
	if c := p.peek(); c.kind != tComma {
		return nil, errAt(c.pos, "expected ',' and the second service of edge(a, b) but found %s", c)
	}
	p.next()
	to, err := p.parseRef(t)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tRParen, "')'", token{kind: tIdent, text: "the services of edge()"}); err != nil {
		return nil, err
	}
	body, err := p.parseBody(scopeEdge)
	if err != nil {
		return nil, err
	}
	return &edgeNode{from: from, to: to, body: body}, nil
}

// parseRef parses a service name or id(name: "n", type: "t", account.id: "a").
func (p *parser) parseRef(owner token) (nodeRef, *Error) {
	t := p.next()
	switch {
	case t.kind == tString:
		return nodeRef{name: t.text, hasName: true}, nil
	case isWord(t, "id"):
		return p.parseID(t)
	case t.kind == tIdent:
		return nodeRef{name: t.text, hasName: true}, nil // tolerated bare word
	}
	return nodeRef{}, errAt(t.pos, "expected a service name in double quotes or id(...) but found %s", t)
}

func (p *parser) parseID(t token) (nodeRef, *Error) {
	var ref nodeRef
	if _, err := p.expect(tLParen, "'('", t); err != nil {
		return ref, err
	}
	if c := p.peek(); c.kind == tRParen {
		return ref, errAt(c.pos, "id() needs at least one of name:, type: or account.id:")
	}
	for {
		a := p.next()
		if a.kind != tIdent {
			return ref, errAt(a.pos, "expected name:, type: or account.id: inside id() but found %s", a)
		}
		if _, err := p.expect(tColon, "':'", a); err != nil {
			return ref, err
		}
		v := p.next()
		if v.kind != tString {
			return ref, errAt(v.pos, "expected a string in double quotes after %s: but found %s", a.text, v)
		}
		switch strings.ToLower(a.text) {
		case "name":
			ref.name, ref.hasName = v.text, true
		case "type":
			ref.typ, ref.hasType = v.text, true
		case "account.id":
			ref.account, ref.hasAccount = v.text, true
		default:
			return ref, errAt(a.pos, "id() takes name:, type: and account.id:, not %s:", a.text)
		}
		c := p.next()
		if c.kind == tRParen {
			break
		}
		if c.kind != tComma {
			return ref, errAt(c.pos, "expected ',' or ')' in id() but found %s", c)
		}
	}
	return ref, nil
}

func (p *parser) parseGroup(t token, byARN bool) (node, *Error) {
	if p.scope != scopeTrace {
		return nil, errAt(t.pos, "%s cannot be used inside %s", t.text, p.scope)
	}
	op := p.next()
	if op.kind != tOp || op.text != "=" {
		return nil, errAt(op.pos, "expected '=' after %s but found %s", t.text, op)
	}
	v := p.next()
	if v.kind != tString {
		return nil, errAt(v.pos, "expected the group's %s in double quotes after '=' but found %s", map[bool]string{false: "name", true: "ARN"}[byARN], v)
	}
	if p.opts.Groups == nil {
		return nil, errAt(t.pos, "%s cannot be used here: no groups are available", t.text)
	}
	for _, g := range p.groups {
		if g == v.text {
			return nil, errAt(t.pos, "group %q refers to itself through %s", v.text, t.text)
		}
	}
	if len(p.groups) >= maxGroupDepth {
		return nil, errAt(t.pos, "group references nest deeper than %d", maxGroupDepth)
	}
	expr, ok := p.opts.Groups(byARN, v.text)
	if !ok {
		return nil, errAt(v.pos, "there is no group %q", v.text)
	}
	if strings.TrimSpace(expr) == "" {
		return &andNode{}, nil // a group without a filter takes every trace
	}
	n, err := parse(expr, p.opts, append(append([]string(nil), p.groups...), v.text))
	if err != nil {
		e := err.(*Error)
		return nil, errAt(v.pos, "the filter expression of group %q does not parse (%s)", v.text, e.Error())
	}
	return n, nil
}

func (p *parser) parseRootCause(t token, lower string) (node, *Error) {
	if p.scope != scopeTrace {
		return nil, errAt(t.pos, "%s cannot be used inside %s", t.text, p.scope)
	}
	parts := strings.Split(lower, ".")
	lists := map[string]rcList{"fault": rcFault, "error": rcError, "responsetime": rcResponseTime}
	levels := map[string]rcLevel{"service": rcService, "entity": rcEntity, "exception": rcException}
	var n rootCauseNode
	ok := len(parts) == 3
	if ok {
		var ok1, ok2 bool
		n.list, ok1 = lists[parts[1]]
		n.level, ok2 = levels[parts[2]]
		ok = ok1 && ok2 && !(n.list == rcResponseTime && n.level == rcException)
	}
	if !ok {
		return nil, errAt(t.pos, "unknown keyword %q: expected rootcause.fault|error.service|entity|exception, rootcause.responsetime.service|entity or rootcause.json", t.text)
	}
	body, err := p.parseBody(scopeRootCause)
	if err != nil {
		return nil, err
	}
	n.body = body
	return &n, nil
}

func (p *parser) parseRootCauseJSON(t token) (node, *Error) {
	if p.scope != scopeTrace {
		return nil, errAt(t.pos, "rootcause.json cannot be used inside %s", p.scope)
	}
	op := p.next()
	if op.kind != tOp || op.text != "=" {
		return nil, errAt(op.pos, "expected '=' after rootcause.json but found %s", op)
	}
	v := p.next()
	if v.kind != tJSON {
		return nil, errAt(v.pos, "expected #[ ... ] after rootcause.json = but found %s", v)
	}
	var pats []any
	if err := json.Unmarshal([]byte(v.text), &pats); err != nil {
		return nil, errAt(v.pos, "the #[ ... ] value is not a JSON array: %v", err)
	}
	return &rootCauseJSONNode{patterns: pats}, nil
}
