package segment

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitDatagram(t *testing.T) {
	body := `{"id":"70de5b6f19ff9a0a"}`
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"Go SDK spacing", "{\"format\": \"json\", \"version\": 1}\n" + body, nil},
		{"Node spacing", "{\"format\":\"json\",\"version\":1}\n" + body, nil},
		{"key order and case", "{ \"version\":1 ,\"format\":\"JSON\" }\n" + body, nil},
		{"CRLF-free multi-line body", "{\"format\":\"json\",\"version\":1}\n{\n\"id\":1}\n", nil},
		{"no newline", "{\"format\":\"json\",\"version\":1}" + body, ErrNoHeader},
		{"empty", "", ErrNoHeader},
		{"version 2", "{\"format\":\"json\",\"version\":2}\n" + body, ErrBadHeader},
		{"version string", "{\"format\":\"json\",\"version\":\"1\"}\n" + body, ErrBadHeader},
		{"format xml", "{\"format\":\"xml\",\"version\":1}\n" + body, ErrBadHeader},
		{"header not JSON", "format json\n" + body, ErrBadHeader},
		{"empty body", "{\"format\":\"json\",\"version\":1}\n", ErrEmptyBody},
		{"blank body", "{\"format\":\"json\",\"version\":1}\n \r\n\t", ErrEmptyBody},
		{"oversize", "{\"format\":\"json\",\"version\":1}\n" + strings.Repeat("x", MaxDatagramSize), ErrDatagramSize},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitDatagram([]byte(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && !strings.HasSuffix(tc.in, string(got)) {
				t.Errorf("body %q is not the datagram's tail", got)
			}
			if tc.name == "Go SDK spacing" && string(got) != body {
				t.Errorf("body = %q, want %q", got, body)
			}
		})
	}
}

func TestSplitDatagramAtTheLimit(t *testing.T) {
	h := "{\"format\":\"json\",\"version\":1}\n"
	in := h + strings.Repeat("x", MaxDatagramSize-len(h))
	if _, err := SplitDatagram([]byte(in)); err != nil {
		t.Errorf("a datagram of exactly %d bytes: %v", MaxDatagramSize, err)
	}
}
