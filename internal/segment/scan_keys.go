package segment

import (
	"reflect"
	"strings"
)

// unknownKey reports whether a key that no field of its object has may be
// skipped: goccy and encoding/json match keys to fields by Unicode case
// folding, so a key whose letters fold to any schema key's ("ID") is
// theirs to decide, as is any non-ASCII key (KELVIN SIGN folds to k). The
// Go SDK's "Dummy" is skipped.
func unknownKey(k []byte) bool {
	upper := false
	for _, c := range k {
		if c >= 0x80 || c == '\\' || c < 0x20 {
			return false
		}
		if c-'A' < 26 {
			upper = true
		}
	}
	if !upper || len(k) > maxSchemaKey {
		return true
	}
	var low [maxSchemaKey]byte
	for i, c := range k {
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	_, known := schemaKeys[string(low[:len(k)])]
	return !known
}

// schemaKeys are the member names of every object decodeFast reads.
var schemaKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, v := range []any{Segment{}, HTTP{}, HTTPRequest{}, HTTPResponse{}, AWS{}, EC2{}, ECS{}, EKS{}, XRaySDK{},
		ElasticBeanstalk{}, LogGroup{}, Lambda{}, SQL{}, Cause{}, Exception{}, StackFrame{}, Service{}, Link{}} {
		t := reflect.TypeOf(v)
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if len(name) > maxSchemaKey {
				panic("segment: a member name longer than maxSchemaKey: " + name)
			}
			m[strings.ToLower(name)] = true
		}
	}
	return m
}()

const maxSchemaKey = 32
