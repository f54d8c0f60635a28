package clickhouse

import (
	"strings"
	"testing"
)

// FuzzParseURL: a store URL either is refused or gives names that are
// safe to splice into SQL (database, local database and cluster are
// written into statements unquoted) and a consistent sharded setup.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"clickhouse://h:8123/db?user=u&password=p&secure=1",
		"http://h/db?cluster=c&local_database=l",
		"https://h:9/?database=x&commit_window=5ms&cluster=c",
		"clickhouse://h/db?cluster=c%27;DROP",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := parseURL(raw)
		if err != nil {
			return
		}
		for _, name := range []string{c.database, c.localDatabase, c.cluster} {
			if strings.IndexFunc(name, func(r rune) bool {
				return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
			}) >= 0 {
				t.Fatalf("parseURL(%q) accepted the name %q", raw, name)
			}
		}
		if c.database == "" || !strings.HasSuffix(c.base, "/") {
			t.Fatalf("parseURL(%q) = database %q, base %q", raw, c.database, c.base)
		}
		if (c.cluster != "") != (c.localDatabase != "") || c.cluster != "" && c.localDatabase == c.database {
			t.Fatalf("parseURL(%q): cluster %q, local database %q, database %q", raw, c.cluster, c.localDatabase, c.database)
		}
	})
}
