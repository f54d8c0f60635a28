package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// MaxDatagramSize is the largest UDP payload the daemon protocol carries.
const MaxDatagramSize = 64 * 1024

// Datagram rejection reasons, used as metric labels.
var (
	ErrNoHeader     = errors.New("datagram has no header line")
	ErrBadHeader    = errors.New("datagram header is not {\"format\":\"json\",\"version\":1}")
	ErrEmptyBody    = errors.New("datagram has an empty body")
	ErrDatagramSize = errors.New("datagram exceeds 64 KiB")
)

// SplitDatagram separates a daemon-protocol datagram into its header and body
// (spec §2.1): the header is the JSON before the first newline and must say
// format json, version 1. Spacing is irrelevant: it is parsed, not compared.
func SplitDatagram(p []byte) (body []byte, err error) {
	if len(p) > MaxDatagramSize {
		return nil, ErrDatagramSize
	}
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		return nil, ErrNoHeader
	}
	var h struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if json.Unmarshal(p[:i], &h) != nil || !strings.EqualFold(h.Format, "json") || h.Version != 1 {
		return nil, ErrBadHeader
	}
	body = p[i+1:]
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, ErrEmptyBody
	}
	return body, nil
}
