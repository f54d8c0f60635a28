package filter

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseErrorsSayWhatAndWhere(t *testing.T) {
	cases := []struct {
		expr string
		msg  string
		col  int
	}{
		{`responsetime >`, "expected a value after '>' but found the end of the expression", 15},
		{`service("a") { responsetime > }`, "expected a value after '>' but found '}'", 31},
		{`http.status = "200"`, "http.status is a number, not a string", 15},
		{`fault = 1`, "fault is true or false, not a number", 9},
		{`fault > true`, "operator '>' does not apply here: fault is a boolean", 7},
		{`user > "a"`, "operator '>' does not apply here: user is a string", 6},
		{`annotation.x CONTAINS 3`, "operator CONTAINS does not apply here: the value is a number", 14},
		{`annotation.x < true`, "operator '<' does not apply here", 14},
		{`responsetime`, "expected a comparison after responsetime", 13},
		{`http.url CONTAINS 5`, `http.url is a string: put the value in double quotes`, 19},
		{`service("a") { annotation.x = 1 }`, "annotation.x cannot be used inside service() { ... }", 16},
		{`edge("a", "b") { user = "x" }`, "user cannot be used in edge() { ... }", 18},
		{`service("a") { service("b") }`, "service() cannot be used inside service() { ... }", 16},
		{`first`, "first cannot be used in trace scope", 1},
		{`(fault`, "expected ')' to close the '(' at column 1 but found the end of the expression", 7},
		{`fault)`, "found ')' without a matching '('", 6},
		{`fault }`, "found '}' without a matching '{'", 7},
		{`foo = 1`, `unknown keyword "foo"`, 1},
		{`fault AND`, "expected a filter after AND but found the end of the expression", 10},
		{`fault OR OR error`, "expected a filter after OR but found OR", 10},
		{`AND fault`, "expected a filter before AND", 1},
		{`"abc"`, "expected a keyword, '(' or '!' but found \"abc\"", 1},
		{`service("a" { fault }`, "expected ')' after the service but found '{'", 13},
		{`edge("a") { fault }`, "expected ',' and the second service of edge(a, b) but found ')'", 9},
		{`service(id())`, "id() needs at least one of name:, type: or account.id:", 12},
		{`service(id(color: "red"))`, "id() takes name:, type: and account.id:, not color:", 12},
		{`service(id(name "x"))`, "expected ':' after name but found \"x\"", 17},
		{`service("a") { }`, "expected a filter inside { } but found '}'", 16},
		{`group.name = "nope"`, `there is no group "nope"`, 14},
		{`group.name = "loop-a"`, `group "loop-a" refers to itself`, 14},
		{`group.name = "broken"`, `the filter expression of group "broken" does not parse (expected a value after '>'`, 14},
		{`group.name > "x"`, "expected '=' after group.name but found '>'", 12},
		{`rootcause.fault.foo { name = "x" }`, `unknown keyword "rootcause.fault.foo"`, 1},
		{`rootcause.responsetime.exception { name = "x" }`, `unknown keyword "rootcause.responsetime.exception"`, 1},
		{`rootcause.json = #[1,]`, "the #[ ... ] value is not a JSON array", 18},
		{`rootcause.json = #[{"a": 1}`, "the #[ JSON value is not closed with ']'", 18},
		{`http.url = "unterminated`, "unterminated string: add a closing \"", 12},
		{`fault @ error`, "unexpected character '@'", 7},
		{`ünïcode > 1`, "unexpected character 'ü'", 1},
		{`responsetime > 1 AND "é" = x`, "expected a filter after AND but found \"é\"", 22},
		{``, "the expression is empty", 1},
		{`!`, "expected a filter after '!' but found the end of the expression", 2},
		{`true`, "expected a keyword before true", 1},
		{`annotation. = 1`, "expected an annotation key after 'annotation.'", 1},
	}
	for _, c := range cases {
		_, err := Parse(c.expr, Options{Groups: testGroups})
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v, want a *filter.Error", c.expr, err)
			continue
		}
		if !strings.Contains(pe.Msg, c.msg) || pe.Column != c.col {
			t.Errorf("%s:\n got  %q at column %d\n want %q at column %d", c.expr, pe.Msg, pe.Column, c.msg, c.col)
		}
		if !strings.HasSuffix(pe.Error(), " at column "+itoa(c.col)) {
			t.Errorf("%s: Error() = %q does not name the column", c.expr, pe.Error())
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestHugeExpressionsFailFast(t *testing.T) {
	cases := map[string]struct {
		expr, msg string
	}{
		"100 kB":            {strings.Repeat(`user = "x" OR `, 100000/14) + "fault", "bytes long; the limit is 10000"},
		"10,000 parens":     {strings.Repeat("(", 10000) + "fault" + strings.Repeat(")", 10000), "bytes long; the limit is 10000"},
		"60 parens":         {strings.Repeat("(", 60) + "fault" + strings.Repeat(")", 60), "nests deeper than 50 levels at column 51"},
		"10,000 negations":  {strings.Repeat("!", 9000) + "fault", "nests deeper than 50 levels"},
		"nested braces":     {strings.Repeat(`service("a") {`, 100), "service() cannot be used inside"},
		"nested JSON":       {`rootcause.json = #` + strings.Repeat("[", 5000), "nests deeper than 50 levels"},
		"9 kB of ANDs":      {strings.Repeat("fault AND ", 900) + "AND", "expected a filter after AND"},
		"unbalanced parens": {strings.Repeat("(fault OR ", 40) + "error", "expected ')'"},
	}
	for name, c := range cases {
		var err error
		d := onCPU(func() { _, err = Parse(c.expr, Options{}) })
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.msg)
		}
		if d > 100*time.Millisecond {
			t.Errorf("%s: took %v", name, d)
		}
	}
	// The longest accepted expression still evaluates quickly.
	long := strings.Repeat(`user = "x" OR `, (MaxLength-10)/14) + "fault"
	e, err := Parse(long, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := multiService()
	d := onCPU(func() {
		for range 100 {
			e.Match(s)
		}
	}) / 100
	if d > 5*time.Millisecond {
		t.Errorf("a %d-byte expression takes %v per trace", len(long), d)
	}
}
