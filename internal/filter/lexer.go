package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tOp     // = != < <= > >=
	tBang   // !
	tLParen // (
	tRParen // )
	tLBrace // {
	tRBrace // }
	tComma  // ,
	tColon  // :
	tJSON   // #[ ... ] (rootcause.json)
	tAndSym // &&
	tOrSym  // ||
)

type token struct {
	kind tokKind
	text string // identifier, operator, or the decoded string / JSON text
	num  float64
	pos  int // byte offset in the expression
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "the end of the expression"
	case tString:
		return strconv.Quote(t.text)
	case tJSON:
		return "a #[...] JSON value"
	case tIdent, tNumber:
		return t.text
	}
	return "'" + t.text + "'"
}

// lex splits an expression into tokens. Errors carry the byte offset.
func lex(src string) ([]token, error) {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			out = append(out, token{kind: tIdent, text: src[i:j], pos: i})
			i = j
		case c >= '0' && c <= '9' || c == '-' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i + 1
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == 'e' || src[j] == 'E' ||
				(src[j] == '-' || src[j] == '+') && (src[j-1] == 'e' || src[j-1] == 'E')) {
				j++
			}
			f, err := strconv.ParseFloat(src[i:j], 64)
			if err != nil {
				return nil, errAt(i, "%q is not a number", src[i:j])
			}
			out = append(out, token{kind: tNumber, text: src[i:j], num: f, pos: i})
			i = j
		case c == '"' || c == '\'':
			s, n, err := lexString(src[i:])
			if err != nil {
				return nil, errAt(i, "%s", err.Error())
			}
			out = append(out, token{kind: tString, text: s, pos: i})
			i += n
		case c == '#':
			if i+1 >= len(src) || src[i+1] != '[' {
				return nil, errAt(i, "expected '#[' to start a JSON value")
			}
			n, err := jsonSpan(src[i+1:])
			if err != nil {
				return nil, errAt(i, "%s", err.Error())
			}
			out = append(out, token{kind: tJSON, text: src[i+1 : i+1+n], pos: i})
			i += 1 + n
		case c == '!' && i+1 < len(src) && src[i+1] == '=':
			out = append(out, token{kind: tOp, text: "!=", pos: i})
			i += 2
		case c == '<' || c == '>':
			op := string(c)
			if i+1 < len(src) && src[i+1] == '=' {
				op += "="
			}
			out = append(out, token{kind: tOp, text: op, pos: i})
			i += len(op)
		case c == '=':
			n := 1
			if i+1 < len(src) && src[i+1] == '=' {
				n = 2 // tolerate ==
			}
			out = append(out, token{kind: tOp, text: "=", pos: i})
			i += n
		case c == '&' && i+1 < len(src) && src[i+1] == '&':
			out = append(out, token{kind: tAndSym, text: "&&", pos: i})
			i += 2
		case c == '|' && i+1 < len(src) && src[i+1] == '|':
			out = append(out, token{kind: tOrSym, text: "||", pos: i})
			i += 2
		default:
			k, ok := punct[c]
			if !ok {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, errAt(i, "unexpected character %q", r)
			}
			out = append(out, token{kind: k, text: string(c), pos: i})
			i++
		}
	}
	return append(out, token{kind: tEOF, pos: len(src)}), nil
}

var punct = map[byte]tokKind{'!': tBang, '(': tLParen, ')': tRParen, '{': tLBrace, '}': tRBrace, ',': tComma, ':': tColon}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '.' }

// lexString decodes a quoted string starting at s[0] and returns its value
// and length in bytes.
func lexString(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			return b.String(), i + 1, nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string: add a closing %c", q)
}

// jsonSpan finds the end of the bracketed JSON value at s[0] == '['.
func jsonSpan(s string) (int, error) {
	depth := 0
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			depth++
			if depth > MaxDepth {
				return 0, fmt.Errorf("the JSON value nests deeper than %d levels", MaxDepth)
			}
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("the #[ JSON value is not closed with ']'")
}
