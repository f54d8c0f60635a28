package clickhouse

import "context"

// EchoIDs sends ids as external data to the server rawURL names and
// returns what it read of them.
func EchoIDs(ctx context.Context, rawURL string, ids []string) ([]string, error) {
	c, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	r, err := c.selectRowsIDs(ctx, `SELECT trace FROM `+idsTable, ids)
	if err != nil {
		return nil, err
	}
	var got []string
	for r.more() {
		got = append(got, r.str())
	}
	return got, r.err
}
