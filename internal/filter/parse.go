// Package filter is X-Ray's filter expression language (spec §4): it parses
// and type-checks an expression, evaluates it against trace summaries, and
// narrows it to the index terms a matching trace must carry, so that a
// search reads the traces that can match instead of every trace.
package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// Bounds on an expression, so that no input makes parsing or evaluation
// slow: the length in bytes and the nesting of parentheses and braces.
const (
	MaxLength = 10000
	MaxDepth  = 50
	// maxGroupDepth bounds group.name references through other groups.
	maxGroupDepth = 8
)

// Error is an expression that does not parse or type-check. Its message
// names the column (1-based, in characters) and what was expected there.
type Error struct {
	Offset int // byte offset
	Column int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("%s at column %d", e.Msg, e.Column) }

func errAt(offset int, format string, args ...any) *Error {
	return &Error{Offset: offset, Msg: fmt.Sprintf(format, args...)}
}

// GroupResolver returns the filter expression of a group referenced by
// name (byARN false) or by ARN; ok false when there is no such group.
type GroupResolver func(byARN bool, ref string) (expr string, ok bool)

// Options configure parsing.
type Options struct {
	// Groups resolves group.name and group.arn; nil rejects them.
	Groups GroupResolver
}

// Expr is a parsed, type-checked expression. It is immutable and safe for
// concurrent use.
type Expr struct {
	src  string
	root node
}

// String is the expression's source text.
func (e *Expr) String() string { return e.src }

// Match reports whether a trace summary satisfies the expression.
func (e *Expr) Match(s *trace.Summary) bool {
	return eval(e.root, &env{s: s})
}

// Parse parses and type-checks an expression.
func Parse(src string, opts Options) (*Expr, error) {
	root, err := parse(src, opts, nil)
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, root: root}, nil
}

// parse parses src; groups lists the group references being expanded (to
// refuse a group that refers to itself).
func parse(src string, opts Options, groups []string) (node, error) {
	if len(src) > MaxLength {
		return nil, &Error{Offset: MaxLength, Column: utf8.RuneCountInString(src[:MaxLength]) + 1,
			Msg: fmt.Sprintf("the expression is %d bytes long; the limit is %d", len(src), MaxLength)}
	}
	fail := func(e *Error) error {
		off := min(max(e.Offset, 0), len(src))
		e.Column = utf8.RuneCountInString(src[:off]) + 1
		return e
	}
	if strings.TrimSpace(src) == "" {
		return nil, fail(errAt(0, "the expression is empty"))
	}
	toks, err := lex(src)
	if err != nil {
		return nil, fail(err.(*Error))
	}
	p := &parser{src: src, toks: toks, opts: opts, groups: groups}
	n, perr := p.parseOr()
	if perr == nil && p.peek().kind != tEOF {
		perr = errAt(p.peek().pos, "expected AND, OR or the end of the expression but found %s", p.peek())
		if p.peek().kind == tRParen {
			perr = errAt(p.peek().pos, "found ')' without a matching '('")
		} else if p.peek().kind == tRBrace {
			perr = errAt(p.peek().pos, "found '}' without a matching '{'")
		}
	}
	if perr != nil {
		return nil, fail(perr)
	}
	return n, nil
}

type parser struct {
	src    string
	toks   []token
	i      int
	depth  int
	scope  scope
	rc     rcLevel
	opts   Options
	groups []string
}

func (p *parser) col(off int) int { return utf8.RuneCountInString(p.src[:off]) + 1 }

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) expect(k tokKind, what string, after token) (token, *Error) {
	t := p.peek()
	if t.kind != k {
		return t, errAt(t.pos, "expected %s after %s but found %s", what, after, t)
	}
	return p.next(), nil
}

func (p *parser) enter(t token) *Error {
	p.depth++
	if p.depth > MaxDepth {
		return errAt(t.pos, "the expression nests deeper than %d levels", MaxDepth)
	}
	return nil
}

func isWord(t token, w string) bool { return t.kind == tIdent && strings.EqualFold(t.text, w) }

func (p *parser) parseOr() (node, *Error) {
	x, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	xs := []node{x}
	for isWord(p.peek(), "or") || p.peek().kind == tOrSym {
		op := p.next()
		if !p.startsOperand(p.peek()) {
			return nil, errAt(p.peek().pos, "expected a filter after %s but found %s", op.text, p.peek())
		}
		y, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return &orNode{xs}, nil
}

// startsOperand reports whether t can begin a filter (juxtaposition is AND).
func (p *parser) startsOperand(t token) bool {
	switch t.kind {
	case tBang, tLParen:
		return true
	case tIdent:
		return !isWord(t, "and") && !isWord(t, "or")
	}
	return false
}

func (p *parser) parseAnd() (node, *Error) {
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	xs := []node{x}
	for {
		t := p.peek()
		if isWord(t, "and") || t.kind == tAndSym {
			p.next()
			if !p.startsOperand(p.peek()) {
				return nil, errAt(p.peek().pos, "expected a filter after %s but found %s", t.text, p.peek())
			}
		} else if !p.startsOperand(t) {
			break
		}
		y, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return &andNode{xs}, nil
}

func (p *parser) parseNot() (node, *Error) {
	t := p.peek()
	if t.kind == tBang || isWord(t, "not") {
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		if !p.startsOperand(p.peek()) {
			return nil, errAt(p.peek().pos, "expected a filter after '!' but found %s", p.peek())
		}
		x, err := p.parseNot()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &notNode{x}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (node, *Error) {
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, errAt(p.peek().pos, "expected ')' to close the '(' at column %d but found %s", p.col(t.pos), p.peek())
		}
		p.next()
		p.depth--
		return x, nil
	case tIdent:
		return p.parseKeyword()
	}
	return nil, errAt(t.pos, "expected a keyword, '(' or '!' but found %s", t)
}

func (p *parser) parseKeyword() (node, *Error) {
	t := p.next()
	lower := strings.ToLower(t.text)
	switch {
	case lower == "service":
		return p.parseService(t)
	case lower == "edge":
		return p.parseEdge(t)
	case lower == "id":
		p.i--
		ref, err := p.parseRef(t)
		if err != nil {
			return nil, err
		}
		return p.scoped(t, &serviceNode{ref: &ref})
	case lower == "group.name" || lower == "group.arn":
		return p.parseGroup(t, lower == "group.arn")
	case lower == "rootcause.json":
		return p.parseRootCauseJSON(t)
	case strings.HasPrefix(lower, "rootcause."):
		return p.parseRootCause(t, lower)
	case strings.HasPrefix(lower, "annotation."):
		key := t.text[len("annotation."):]
		if key == "" {
			return nil, errAt(t.pos, "expected an annotation key after 'annotation.'")
		}
		if p.scope != scopeTrace {
			return nil, errAt(t.pos, "annotation.%s cannot be used inside %s; put it outside the braces", key, p.scope)
		}
		return p.parsePredicate(t, kwAnnotation, key)
	case lower == "and" || lower == "or":
		return nil, errAt(t.pos, "expected a filter before %s", strings.ToUpper(lower))
	case lower == "true" || lower == "false":
		return nil, errAt(t.pos, "expected a keyword before %s, as in fault = %s", lower, lower)
	}
	kw, ok := keywords[lower]
	if !ok || kw == kwAnnotation {
		return nil, errAt(t.pos, "unknown keyword %q", t.text)
	}
	if !kw.allowedIn(p.scope) {
		return nil, errAt(t.pos, "%s cannot be used in %s", kw.info().name, p.scope)
	}
	return p.parsePredicate(t, kw, "")
}

// scoped refuses complex keywords inside braces.
func (p *parser) scoped(t token, n node) (node, *Error) {
	if p.scope != scopeTrace {
		return nil, errAt(t.pos, "%s cannot be used inside %s", strings.ToLower(t.text)+"()", p.scope)
	}
	return n, nil
}

func (p *parser) parsePredicate(kt token, kw keyword, annKey string) (node, *Error) {
	name := kw.info().name
	if kw == kwAnnotation {
		name = "annotation." + annKey
	}
	pr := &predNode{key: kw, annKey: annKey, vtype: kw.info().typ}
	t := p.peek()
	switch {
	case t.kind == tOp:
		pr.op = t.text
	case t.kind == tIdent && wordOps[strings.ToLower(t.text)]:
		pr.op = strings.ToLower(t.text)
	}
	if pr.op == "" {
		if pr.vtype == vNumber {
			return nil, errAt(t.pos, "expected a comparison after %s (such as %s > 1) but found %s", name, name, t)
		}
		return pr, nil
	}
	opTok := p.next()
	v := p.next()
	switch v.kind {
	case tNumber:
		pr.num = v.num
		if kw == kwAnnotation {
			pr.vtype = vNumber
		} else if pr.vtype == vString {
			return nil, errAt(v.pos, "%s is a string: put the value in double quotes, as in %s %s \"%s\"", name, name, opName(pr.op), v.text)
		} else if pr.vtype == vBool {
			return nil, errAt(v.pos, "%s is true or false, not a number", name)
		}
	case tString:
		pr.str = v.text
		if kw == kwAnnotation {
			pr.vtype = vString
		} else if pr.vtype != vString {
			return nil, errAt(v.pos, "%s is %s, not a string", name, pr.vtype)
		}
	case tIdent:
		lv := strings.ToLower(v.text)
		switch {
		case (lv == "true" || lv == "false") && (pr.vtype == vBool || kw == kwAnnotation):
			pr.b = lv == "true"
			pr.vtype = vBool
		case pr.vtype == vString && !isWord(v, "and") && !isWord(v, "or") && !strings.Contains(v.text, "."):
			pr.str = v.text // tolerated bare word: name = traces
		default:
			return nil, errAt(v.pos, "expected a value after %s but found %s", opName(pr.op), v)
		}
	default:
		return nil, errAt(v.pos, "expected a value after %s but found %s", opName(pr.op), v)
	}
	if !opAllowed(pr.vtype, pr.op) {
		ops := []string{}
		for _, o := range operators[pr.vtype] {
			if o != "" {
				ops = append(ops, opName(o))
			}
		}
		what := name + " is " + pr.vtype.String()
		if kw == kwAnnotation {
			what = "the value is " + pr.vtype.String()
		}
		return nil, errAt(opTok.pos, "operator %s does not apply here: %s, which takes %s", opName(pr.op), what, strings.Join(ops, ", "))
	}
	return pr, nil
}
