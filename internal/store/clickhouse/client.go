package clickhouse

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// client speaks ClickHouse's HTTP interface: a statement in the body (or,
// for INSERT, in the URL with the rows in the body), the answer in the
// body, an error as a non-200 status with the server's message.
type client struct {
	base     string // http(s)://host:port/
	database string
	user     string
	password string
	http     *http.Client
	// commitWindow is how long the group commit gathers writes (batch.go).
	commitWindow time.Duration
	// cluster (cluster=) names the cluster a sharded store's Distributed
	// tables span, localDatabase (local_database=) the database of their
	// local tables on every node (cluster.go); settings go with every
	// statement.
	cluster, localDatabase string
	settings               url.Values
	// statsGrace is how far before the server's now statistics rollups
	// cut, rollupRows how many rows since a partition's cutoff make a read
	// write its next rollup (rollup.go).
	statsGrace time.Duration
	rollupRows int
}

// parseURL reads clickhouse://host:port/database?user=…&password=…&secure=1
// &commit_window=5ms&stats_grace=30s&stats_rollup_rows=1000, or the same with http:// or https:// (secure implied).
func parseURL(raw string) (*client, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("clickhouse URL: %w", err)
	}
	q := u.Query()
	scheme := "http"
	switch u.Scheme {
	case "clickhouse":
		if q.Get("secure") == "1" || q.Get("secure") == "true" {
			scheme = "https"
		}
	case "http":
	case "https":
		scheme = "https"
	default:
		return nil, fmt.Errorf("clickhouse URL %q: scheme must be clickhouse, http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("clickhouse URL %q: no host", raw)
	}
	host := u.Host
	if u.Port() == "" {
		if scheme == "https" {
			host += ":8443"
		} else {
			host += ":8123"
		}
	}
	c := &client{
		base:     scheme + "://" + host + "/",
		database: strings.Trim(u.Path, "/"),
		user:     q.Get("user"),
		password: q.Get("password"),
		// Its own connection pool, closed with the store.
		http: &http.Client{Timeout: 5 * time.Minute, Transport: transport()},
	}
	c.commitWindow = defaultCommitWindow
	if w := q.Get("commit_window"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d < 0 || d > time.Second {
			return nil, fmt.Errorf("clickhouse URL %q: commit_window must be a duration from 0 to 1s, like 5ms", raw)
		}
		c.commitWindow = d
	}
	c.statsGrace = defaultStatsGrace
	if g := q.Get("stats_grace"); g != "" {
		// 0 is for tests (rollups of every row written before this
		// second): it misses an INSERT under way as a rollup is made.
		d, err := time.ParseDuration(g)
		if err != nil || d < 0 || d > time.Hour || d%time.Second != 0 {
			return nil, fmt.Errorf("clickhouse URL %q: stats_grace must be whole seconds from 0 to 1h, like 30s", raw)
		}
		c.statsGrace = d
	}
	c.rollupRows = defaultRollupRows
	if n := q.Get("stats_rollup_rows"); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("clickhouse URL %q: stats_rollup_rows must be a count from 1, like 1000", raw)
		}
		c.rollupRows = v
	}
	if c.database == "" {
		c.database = q.Get("database")
	}
	if c.database == "" {
		c.database = "roentgen"
	}
	if c.cluster = q.Get("cluster"); c.cluster != "" {
		c.localDatabase = q.Get("local_database")
		if c.localDatabase == "" {
			c.localDatabase = c.database + "_local"
		}
		if c.localDatabase == c.database {
			return nil, fmt.Errorf("clickhouse URL %q: local_database must differ from the database (it holds the Distributed tables)", raw)
		}
		c.settings = clusterSettings
	} else if q.Get("local_database") != "" {
		return nil, fmt.Errorf("clickhouse URL %q: local_database needs cluster", raw)
	}
	if u.User != nil {
		c.user = u.User.Username()
		if p, ok := u.User.Password(); ok {
			c.password = p
		}
	}
	for _, name := range []string{c.database, c.localDatabase, c.cluster} {
		for _, r := range name {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return nil, fmt.Errorf("clickhouse URL %q: name %q must be letters, digits and _", raw, name)
			}
		}
	}
	return c, nil
}

// do runs one request: query in the URL when body is set (INSERT … FORMAT),
// otherwise the query is the body. inDB selects the store's database.
func (c *client) do(ctx context.Context, query string, body []byte, inDB bool) ([]byte, error) {
	if body == nil {
		return c.send(ctx, query, nil, inDB)
	}
	return c.send(ctx, query, [][]byte{body}, inDB)
}

// send is do with the body in pieces, sent one after another.
func (c *client) send(ctx context.Context, query string, body [][]byte, inDB bool) ([]byte, error) {
	return c.post(ctx, query, body, inDB, "", nil)
}

// post is send with the body's content type (none: the default) and more
// URL parameters. A body with a content type is a form (extdata.go): its
// query is in more or in the form.
func (c *client) post(ctx context.Context, query string, body [][]byte, inDB bool, contentType string, more url.Values) ([]byte, error) {
	params := url.Values{}
	for k, v := range more {
		params[k] = v
	}
	for k, v := range c.settings {
		params[k] = v
	}
	if inDB {
		params.Set("database", c.database)
	}
	if c.user != "" {
		params.Set("user", c.user)
	}
	if c.password != "" {
		params.Set("password", c.password)
	}
	var rd io.Reader
	var size int64
	pieces := func() io.Reader {
		rs := make([]io.Reader, len(body))
		for i, b := range body {
			rs[i] = bytes.NewReader(b)
		}
		return io.MultiReader(rs...)
	}
	if body != nil {
		if contentType == "" { // a form (extdata.go) sets its own in more, or carries it
			params.Set("query", query)
		}
		rd = pieces()
		for _, b := range body {
			size += int64(len(b))
		}
	} else {
		rd = strings.NewReader(query)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"?"+params.Encode(), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		// Sized and replayable, as a single buffer's would be: no chunked
		// encoding, and a request on a connection the server had just
		// closed is retried.
		req.ContentLength = size
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(pieces()), nil }
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	defer resp.Body.Close()
	out, err := readAnswer(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: reading the answer: %w", err)
	}
	if answerHook != nil {
		answerHook(query, out)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, newServerError(resp, out, query)
	}
	return out, nil
}

// answerHook, if set, sees every answer with its query (tests: what a
// read brings back).
var answerHook func(query string, answer []byte)

// exec runs a statement in the store's database.
func (c *client) exec(ctx context.Context, query string) error {
	_, err := c.do(ctx, query, nil, true)
	return err
}

// selectRows runs a SELECT and returns its RowBinary answer.
func (c *client) selectRows(ctx context.Context, query string) (*rowReader, error) {
	b, err := c.do(ctx, query+" FORMAT RowBinary", nil, true)
	if err != nil {
		return nil, err
	}
	return &rowReader{b: b}, nil
}

// insert writes RowBinary rows into a table. The server acknowledges once
// the rows are in a part on disk, visible to every later query.
func (c *client) insert(ctx context.Context, table, columns string, rows []byte) error {
	if len(rows) == 0 {
		return nil
	}
	return c.insertPieces(ctx, table, columns, [][]byte{rows})
}

// insertPieces is insert of rows in pieces, each whole rows.
func (c *client) insertPieces(ctx context.Context, table, columns string, rows [][]byte) error {
	_, err := c.send(ctx, "INSERT INTO "+table+" ("+columns+") FORMAT RowBinary", rows, true)
	return err
}

// quote renders s as a ClickHouse string literal. Every byte outside
// printable ASCII, and the quote and backslash, is escaped as \xHH, which
// 18.16 and current servers read alike.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch < 0x20 || ch >= 0x7f || ch == '\'' || ch == '\\' {
			fmt.Fprintf(&b, "\\x%02X", ch)
			continue
		}
		b.WriteByte(ch)
	}
	b.WriteByte('\'')
	return b.String()
}

// idleConnTimeout is below ClickHouse's default keep_alive_timeout (3 s):
// a connection kept idle longer may be closed by the server just as an
// INSERT is written to it, which fails that INSERT ("broken pipe"), and
// Go does not retry a request that is not idempotent.
const idleConnTimeout = 2 * time.Second

func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.IdleConnTimeout = idleConnTimeout
	return t
}
