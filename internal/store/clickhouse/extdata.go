package clickhouse

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/url"
	"strings"
)

// A query that names one set of trace ids in several places (markRows:
// each branch of its UNION ALL) sends the set once, as external data: a
// temporary table `ids` (one column, trace) that travels with the query
// in a multipart body, read by the TabSeparated parser, not parsed as SQL
// (18.16 parses an array literal once per place it appears, and its WITH
// does not reach into subqueries), and `trace IN ids` still narrows each
// read by the primary key. A Distributed table's query sends it on to the
// shards. 18.16 and current servers both take it.

// idsTable is the external table's name in queries.
const idsTable = "ids"

// selectRowsIDs runs a SELECT that reads ids as the table idsTable.
func (c *client) selectRowsIDs(ctx context.Context, query string, ids []string) (*rowReader, error) {
	var b strings.Builder
	for _, id := range ids {
		writeTSV(&b, id)
		b.WriteByte('\n')
	}
	return c.selectRowsExternal(ctx, query, idsTable, "trace String", []byte(b.String()))
}

// selectRowsExternal runs a SELECT that reads rows, TabSeparated with the
// given structure, as the table name.
func (c *client) selectRowsExternal(ctx context.Context, query, name, structure string, rows []byte) (*rowReader, error) {
	var body bytes.Buffer
	body.Grow(len(rows) + 512)
	mw := multipart.NewWriter(&body)
	// The query is a field of the form, not in the URL, which a long one
	// (a read's set literals) would make too long for the server.
	if err := mw.WriteField("query", query+" FORMAT RowBinary"); err != nil {
		return nil, err
	}
	fw, err := mw.CreateFormFile(name, name+".tsv")
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(rows); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	more := url.Values{
		name + "_structure": {structure},
		name + "_format":    {"TabSeparated"},
	}
	out, err := c.post(ctx, query+" FORMAT RowBinary", [][]byte{body.Bytes()}, true, mw.FormDataContentType(), more)
	if err != nil {
		return nil, err
	}
	return &rowReader{b: out}, nil
}

// writeTSV writes s as a TabSeparated field: the bytes that end a field
// or a row, and the escape itself, escaped.
func writeTSV(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
}
