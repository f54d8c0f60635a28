package clickhouse

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/url"
)

// A query that names one set of trace ids in several places (markRows:
// each branch of its UNION ALL) sends the set once, as external data: a
// temporary table `ids` (one column, trace) that travels with the query
// in a multipart body, read by the TabSeparated parser, not parsed as SQL
// (18.16 parses an array literal once per place it appears, and its WITH
// does not reach into subqueries), and `trace IN ids` still narrows each
// read by the primary key. A Distributed table's query sends it on to the
// shards. 18.16 and current servers both take it.

// maxURLQuery is the longest query an external-data request sends in its
// URL (extdata.go).
const maxURLQuery = 8 << 10

// idsTable is the external table's name in queries.
const idsTable = "ids"

// selectRowsIDs runs a SELECT that reads ids as the table idsTable.
func (c *client) selectRowsIDs(ctx context.Context, query string, ids []string) (*rowReader, error) {
	return c.selectRowsExternal(ctx, query, idsExt(ids))
}

// extTable is a table of external data: its name in the query, its
// structure, and its rows, TabSeparated.
type extTable struct {
	name, structure string
	rows            []byte
}

// idsExt is the table idsTable of ids.
func idsExt(ids []string) extTable {
	n := 0
	for _, id := range ids {
		n += len(id) + 1
	}
	b := make([]byte, 0, n)
	for _, id := range ids {
		b = append(appendTSV(b, id), '\n')
	}
	return extTable{idsTable, "trace String", b}
}

// selectRowsExternal runs a SELECT that reads the given tables. Their rows
// are sent as they are, each a piece of the form between its head and the
// next.
func (c *client) selectRowsExternal(ctx context.Context, query string, tables ...extTable) (*rowReader, error) {
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	more := url.Values{}
	// A short query goes in the URL, as every server reads it; a long one
	// (a query naming many ids in literals) would make the URL too long for
	// the server (400), so it is a field of the form, which 18.16 (tested)
	// and current servers read.
	if len(query) <= maxURLQuery {
		more.Set("query", query+" FORMAT RowBinary")
	} else if err := mw.WriteField("query", query+" FORMAT RowBinary"); err != nil {
		return nil, err
	}
	body := make([][]byte, 0, 2*len(tables)+1)
	for _, t := range tables {
		more.Set(t.name+"_structure", t.structure)
		more.Set(t.name+"_format", "TabSeparated")
		if _, err := mw.CreateFormFile(t.name, t.name+".tsv"); err != nil {
			return nil, err
		}
		body = append(body, bytes.Clone(form.Bytes()), t.rows)
		form.Reset()
	}
	if err := mw.Close(); err != nil { // the closing boundary
		return nil, err
	}
	body = append(body, form.Bytes())
	out, err := c.post(ctx, query+" FORMAT RowBinary", body, true, mw.FormDataContentType(), more)
	if err != nil {
		return nil, err
	}
	return &rowReader{b: out}, nil
}

// appendTSV appends s as a TabSeparated field: the bytes that end a field
// or a row, and the escape itself, escaped.
func appendTSV(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case 0:
			b = append(b, `\0`...)
		default:
			b = append(b, c)
		}
	}
	return b
}
