// Package bench makes load for Roentgen's benchmarks: a generator of
// realistic segment documents (multi-service traces shaped like the
// recordings of the official SDKs in internal/fixtures) and the driver of
// cmd/roentgen-bench, which sends them to a running server over HTTP or UDP
// and measures throughput, CPU, memory and disk.
package bench

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"time"
)

// Generator makes trace documents. It is deterministic for a seed and not
// safe for concurrent use: give each goroutine its own.
type Generator struct {
	// TraceSize is the segments per trace Batches makes: 0 for the mixed
	// shape (1 to 8, mean ~4), 1 for single-segment traces (a service whose
	// requests call nothing traced, where per-trace work dominates).
	TraceSize int
	// Escaped makes every document come out escaped as the contents of a
	// JSON string (see AppendEscaped), ready to be put between quotes in a
	// PutTraceSegments body; RawLen gives its raw length. The documents
	// are the same, draw for draw, as without it.
	Escaped bool

	rng *rand.Rand
	// src is rng's source, drawn from directly for ids' bytes (what
	// rng.Uint32 draws, without its call through an interface).
	src   *rand.PCG
	tid   []byte // the trace id being written
	segs  []seg  // the trace being made
	arena []byte // documents are written into this and returned from it
	// For a stream that reuses its memory (BatchStream.Reuse): each new
	// arena is noted in fresh, and arenas come from spare while it has any.
	noting          bool
	fresh, spare    [][]byte
	arenasAllocated int
}

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed uint64) *Generator {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	return &Generator{rng: rand.New(src), src: src}
}

// service is one instrumented service of the generated system.
type service struct {
	name, origin, sdk, sdkVersion, runtime, runtimeVersion, host string
}

var services = []service{
	{"web-frontend", "AWS::ECS::Container", "X-Ray for Node.js", "3.12.0", "node", "v22.11.0", "www.example.com"},
	{"api-gateway", "AWS::EC2::Instance", "X-Ray for Go", "1.8.5", "gc", "go1.26.8", "api.example.com"},
	{"orders", "AWS::EC2::Instance", "X-Ray for Go", "1.8.5", "gc", "go1.26.8", "orders.internal"},
	{"payments", "AWS::ECS::Container", "X-Ray for Python", "2.15.0", "CPython", "3.11.7", "payments.internal"},
	{"inventory", "AWS::EC2::Instance", "X-Ray for Go", "1.8.5", "gc", "go1.26.8", "inventory.internal"},
	{"shipping", "AWS::ECS::Container", "X-Ray for Python", "2.15.0", "CPython", "3.11.7", "shipping.internal"},
	{"users", "AWS::EC2::Instance", "X-Ray for Node.js", "3.12.0", "node", "v22.11.0", "users.internal"},
	{"search", "AWS::ECS::Container", "X-Ray for Go", "1.8.5", "gc", "go1.26.8", "search.internal"},
	{"recommendations", "AWS::ECS::Container", "X-Ray for Python", "2.15.0", "CPython", "3.11.7", "recs.internal"},
	{"notifications", "AWS::EC2::Instance", "X-Ray for Node.js", "3.12.0", "node", "v22.11.0", "notify.internal"},
	{"auth", "AWS::EC2::Instance", "X-Ray for Go", "1.8.5", "gc", "go1.26.8", "auth.internal"},
	{"pricing", "AWS::ECS::Container", "X-Ray for Go", "1.8.5", "gc", "go1.26.8", "pricing.internal"},
}

var (
	paths      = []string{"/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/checkout", "/api/v1/products", "/api/v1/products/{id}", "/api/v1/users/{id}", "/api/v1/search", "/health", "/api/v1/shipments/{id}"}
	methods    = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	agents     = []string{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15", "okhttp/4.12.0", "Go-http-client/1.1", "python-requests/2.32.3"}
	tiers      = []string{"free", "basic", "gold", "platinum"}
	zones      = []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}
	tables     = []string{"orders", "carts", "products", "sessions", "shipments"}
	dynamoOps  = []string{"GetItem", "PutItem", "Query", "UpdateItem", "BatchGetItem"}
	sqlQueries = []string{"SELECT * FROM orders WHERE customer_id = $1 LIMIT 50", "UPDATE stock SET qty = qty - $1 WHERE sku = $2", "INSERT INTO payments (order_id, amount, currency) VALUES ($1, $2, $3)", "SELECT id, name, price FROM products WHERE id = ANY($1)"}
	faults     = []struct {
		typ string
		msg text
	}{{"net.OpError", both("dial tcp 10.0.3.17:5432: connect: connection refused")}, {"TimeoutError", both("upstream request timed out after 3000ms")}, {"ValueError", both("invalid literal for int() with base 10: 'three'")}, {"NullPointerException", both(`Cannot invoke \"Order.getId()\" because \"order\" is null`)}}
)

// Trace returns the documents of one trace of n segments (n <= 0: a random
// size, 1 to 8 with mean ~4) whose trace id carries the epoch of at and
// whose times lie just before at. Each document is ~1 kB of JSON.
func (g *Generator) Trace(at time.Time, n int) (traceID string, docs [][]byte) {
	docs = g.trace(nil, at, n)
	return string(g.tid), docs
}

// seg is a segment of the trace being made.
type seg struct {
	id, parent [16]byte // hex; parent only after the first
	caller     int      // the index of the segment that calls this one
	svc        *service
	start, end float64
	status     int
	fault, err bool
}

// trace is Trace appending the documents to docs, with the trace's
// segments in memory kept from trace to trace: the generator shares the
// server's cores, and each allocation costs it there.
func (g *Generator) trace(docs [][]byte, at time.Time, n int) [][]byte {
	if n <= 0 {
		n = 1 + g.rng.IntN(4) + g.rng.IntN(4)
	}
	g.tid = g.appendTraceID(g.tid[:0], at)
	start := float64(at.UnixNano())/1e9 - 0.5
	// Callers: each segment after the first is called by an earlier one
	// through a remote subsegment of that earlier segment.
	if cap(g.segs) < n {
		g.segs = make([]seg, n)
	}
	segs := g.segs[:n]
	clear(segs)
	dur := 0.02 + g.rng.Float64()*0.3
	outcome := g.rng.IntN(100) // < 3: fault, < 8: client error
	for i := range segs {
		s := &segs[i]
		g.appendID(s.id[:0])
		s.svc = &services[g.rng.IntN(len(services))]
		if i == 0 {
			s.svc = &services[g.rng.IntN(2)]
			s.start, s.end = start, start+dur
		} else {
			s.caller = g.rng.IntN(i)
			caller := &segs[s.caller]
			g.appendID(s.parent[:0])
			s.start = caller.start + (caller.end-caller.start)*0.1
			s.end = s.start + (caller.end-caller.start)*0.6
		}
		s.status = 200
	}
	// The outcome starts in the last segment and propagates to the root.
	if outcome < 3 {
		for i := range segs {
			segs[i].status, segs[i].fault = 500, i == len(segs)-1 || i == 0
		}
	} else if outcome < 8 {
		segs[0].status, segs[0].err = []int{400, 404, 429}[g.rng.IntN(3)], true
	}
	var ubuf [16]byte
	user := ubuf[:0]
	if g.rng.IntN(2) == 0 {
		user = strconv.AppendInt(append(user, "user-"...), int64(g.rng.IntN(5000)), 10)
	}
	for i := range segs {
		docs = append(docs, g.segment(g.tid, segs, i, user))
		user = nil
	}
	return docs
}

// TraceID returns a new X-Ray trace id with the epoch of at.
func (g *Generator) TraceID(at time.Time) string {
	return string(g.appendTraceID(nil, at))
}

func (g *Generator) appendTraceID(b []byte, at time.Time) []byte {
	b = strconv.AppendInt(append(b, "1-"...), at.Unix(), 16)
	b = append(b, '-')
	var d [24]byte
	g.hexDraws(d[:])
	return append(b, d[:]...)
}

// appendID appends a new 64-bit id in hex.
func (g *Generator) appendID(b []byte) []byte {
	var d [16]byte
	g.hexDraws(d[:])
	return append(b, d[:]...)
}

// hexDraws fills d with hex digits, two per byte drawn as rng.Uint32 would
// draw it (its low byte: bits 32 to 39 of the source's output).
func (g *Generator) hexDraws(d []byte) {
	const digits = "0123456789abcdef"
	for i := 0; i+1 < len(d); i += 2 {
		r := byte(g.src.Uint64() >> 32)
		d[i], d[i+1] = digits[r>>4], digits[r&0xf]
	}
}

// room returns the arena's free space to write a document into: one
// allocation per ~28 documents instead of one each, and no copy (the
// generator runs beside the server under test, so what it costs is taken
// from the server).
func (g *Generator) room() []byte {
	if cap(g.arena)-len(g.arena) < 4<<10 {
		g.newArena()
	}
	return g.arena[len(g.arena):len(g.arena)]
}

func (g *Generator) newArena() {
	if n := len(g.spare); n > 0 {
		g.arena, g.spare = g.spare[n-1][:0], g.spare[:n-1]
	} else {
		g.arena = make([]byte, 0, 32<<10)
		g.arenasAllocated++
	}
	if g.noting {
		g.fresh = append(g.fresh, g.arena)
	}
}

// take returns the document written into room's b, capped so that
// appending to it cannot touch the next one.
func (g *Generator) take(b []byte) []byte {
	n := len(g.arena)
	if len(b) > 0 && &g.arena[:n+1][n] == &b[0] {
		g.arena = g.arena[:n+len(b)]
	} // else b outgrew the room and has its own array
	return b[:len(b):len(b)]
}

func (g *Generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// text is a piece of a document in the two forms the generator writes:
// as it is, and escaped as the contents of a JSON string (every " and \
// preceded by a \), the form a PutTraceSegments body carries documents in.
// The generator knows where it puts quotes, so it writes the escaped form
// directly instead of escaping each document again byte by byte.
type text [2]string

func both(s string) text { return text{s, string(AppendEscaped(nil, []byte(s)))} }

// AppendEscaped appends s escaped as the contents of a JSON string, without
// the quotes around it: what the generator writes with Escaped for
// documents, which hold no control characters.
func AppendEscaped(b, s []byte) []byte {
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}

// RawLen is the length of the document an escaped one (written with
// Escaped) stands for: each escape sequence, \" or \\, is one byte of it.
func RawLen(escaped []byte) int {
	quotes, slashes := bytes.Count(escaped, quote1), bytes.Count(escaped, slash1)
	// A \" holds a quote and a backslash, a \\ two backslashes.
	return len(escaped) - quotes - (slashes-quotes)/2
}

var quote1, slash1 = []byte{'"'}, []byte{'\\'}

// The pieces of documents the generator writes, in both forms.
var (
	tStrEnd     = both(`",`)
	tHTTP       = both(`"http":{"request":{`)
	tResponse   = both(`"response":{`)
	tAWS        = both(`"aws":{`)
	tEC2        = both(`"ec2":{`)
	tECS        = both(`"ecs":{`)
	tXRay       = both(`"xray":{`)
	tService    = both(`"service":{`)
	tAnnots     = both(`"annotations":{`)
	tMetadata   = both(`"metadata":{"default":{"request":{`)
	tCause      = both(`"cause":{"working_directory":"/srv/app","exceptions":[{`)
	tStack      = both(`"stack":[{"path":"app/handler.go","line":88,"label":"handle"},{"path":"app/db.go","line":214,"label":"query"}]}]},`)
	tSubs       = both(`"subsegments":[`)
	tSubID      = both(`{"id":"`)
	tSubStart   = both(`","start_time":`)
	tSubEnd     = both(`,"end_time":`)
	tRemoteName = both(`,"name":"`)
	tRemote     = both(`","namespace":"remote","traced":true,"http":{"request":{"method":"POST","url":"http://svc/v1/call"},"response":{"status":`)
	tFaultTrue  = both(`,"fault":true`)
	tDynamo     = both(`,"name":"DynamoDB","namespace":"aws","aws":{"operation":"`)
	tRegion     = both(`","region":"us-east-1","request_id":"`)
	tTable      = both(`","table_name":"`)
	tRetries    = both(`","retries":0},"http":{"response":{"status":200}}`)
	tSQL        = both(`,"name":"app@db.internal","namespace":"remote","sql":{"url":"postgresql://db.internal:5432/app","database_type":"PostgreSQL","database_version":"15.4","driver_version":"pgx 5.5","user":"app","sanitized_query":"`)
	tSQLEnd     = both(`"}`)
	tRender     = both(`,"name":"render","metadata":{"default":{"cache":"miss"}}`)
)

// key is a member's name with what precedes its value, in both forms:
// "name":" for a string, "name": for anything else.
type key struct{ str, num text }

func newKey(name string) *key {
	return &key{both(`"` + name + `":"`), both(`"` + name + `":`)}
}

// The members segment writes.
var (
	kAvailabilityZone = newKey("availability_zone")
	kClientIP         = newKey("client_ip")
	kContainer        = newKey("container")
	kContentLength    = newKey("content_length")
	kCustomerTier     = newKey("customer_tier")
	kEndTime          = newKey("end_time")
	kError            = newKey("error")
	kFault            = newKey("fault")
	kID               = newKey("id")
	kInstanceID       = newKey("instance_id")
	kItems            = newKey("items")
	kMessage          = newKey("message")
	kMethod           = newKey("method")
	kName             = newKey("name")
	kOrigin           = newKey("origin")
	kParentID         = newKey("parent_id")
	kRetry            = newKey("retry")
	kRuntime          = newKey("runtime")
	kRuntimeVersion   = newKey("runtime_version")
	kSDK              = newKey("sdk")
	kSDKVersion       = newKey("sdk_version")
	kStartTime        = newKey("start_time")
	kStatus           = newKey("status")
	kThrottle         = newKey("throttle")
	kTraceID          = newKey("trace_id")
	kType             = newKey("type")
	kURL              = newKey("url")
	kUser             = newKey("user")
	kUserAgent        = newKey("user_agent")
	kVersion          = newKey("version")
	kVIP              = newKey("vip")
)

// form is the index of the form g writes in a text.
func (g *Generator) form() int {
	if g.Escaped {
		return 1
	}
	return 0
}

// segment writes one segment document. Strings are chosen to need no JSON
// escaping (but for the fault messages, kept in both forms), so plain
// appends write valid JSON quickly, in either form.
func (g *Generator) segment(traceID []byte, segs []seg, i int, user []byte) []byte {
	sg := &segs[i]
	svc, start, end, status, fault, clientErr := sg.svc, sg.start, sg.end, sg.status, sg.fault, sg.err
	var id, parent []byte = sg.id[:], nil
	if i > 0 {
		parent = sg.parent[:]
	}
	e := g.form()
	strEnd := tStrEnd[e]
	b := g.room()
	str := func(k *key, v string) {
		b = append(b, k.str[e]...)
		b = append(b, v...)
		b = append(b, strEnd...)
	}
	// open and shut write a string value in parts.
	open := func(k *key) { b = append(b, k.str[e]...) }
	shut := func() { b = append(b, strEnd...) }
	num := func(k *key, v int) {
		b = append(b, k.num[e]...)
		b = strconv.AppendInt(b, int64(v), 10)
		b = append(b, ',')
	}
	ts := func(k *key, v float64) {
		b = append(b, k.num[e]...)
		b = appendMicros(b, v)
		b = append(b, ',')
	}
	strb := func(k *key, v []byte) {
		b = append(b, k.str[e]...)
		b = append(b, v...)
		b = append(b, strEnd...)
	}
	boolean := func(k *key) { b = append(b, k.num[e]...); b = append(b, "true,"...) }
	end1 := func() { b[len(b)-1] = '}'; b = append(b, ',') } // closes an object opened by the caller
	b = append(b, '{')
	strb(kTraceID, traceID)
	strb(kID, id)
	str(kName, svc.name)
	str(kOrigin, svc.origin)
	if parent != nil {
		strb(kParentID, parent)
	}
	ts(kStartTime, start)
	ts(kEndTime, end)
	if fault {
		boolean(kFault)
	}
	if clientErr {
		boolean(kError)
		if status == 429 {
			boolean(kThrottle)
		}
	}
	if len(user) > 0 {
		strb(kUser, user)
	}
	path := g.pick(paths)
	b = append(b, tHTTP[e]...)
	str(kMethod, g.pick(methods))
	open(kURL)
	b = append(b, "https://"...)
	b = append(b, svc.host...)
	b = append(b, path...)
	shut()
	if parent == nil {
		str(kUserAgent, g.pick(agents))
	}
	open(kClientIP)
	b = append(b, "10.0."...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(256)), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(g.rng.IntN(256)), 10)
	shut()
	end1()
	b = append(b, tResponse[e]...)
	num(kStatus, status)
	num(kContentLength, 200+g.rng.IntN(20000))
	end1()
	end1()
	b = append(b, tAWS[e]...)
	if svc.origin == "AWS::EC2::Instance" {
		b = append(b, tEC2[e]...)
		open(kInstanceID)
		b = g.appendID(append(b, "i-0"...))
		shut()
		str(kAvailabilityZone, g.pick(zones))
		end1()
	} else {
		b = append(b, tECS[e]...)
		open(kContainer)
		b = append(b, svc.name...)
		b = g.appendID(append(b, '-'))
		b = b[:len(b)-8] // half the id
		shut()
		str(kAvailabilityZone, g.pick(zones))
		end1()
	}
	b = append(b, tXRay[e]...)
	str(kSDK, svc.sdk)
	str(kSDKVersion, svc.sdkVersion)
	end1()
	end1()
	b = append(b, tService[e]...)
	open(kVersion)
	b = strconv.AppendInt(append(b, "1."...), int64(g.rng.IntN(9)), 10)
	b = append(b, ".2"...)
	shut()
	str(kRuntime, svc.runtime)
	str(kRuntimeVersion, svc.runtimeVersion)
	end1()
	b = append(b, tAnnots[e]...)
	str(kCustomerTier, g.pick(tiers))
	num(kItems, 1+g.rng.IntN(9))
	if g.rng.IntN(4) == 0 {
		boolean(kVIP)
	}
	end1()
	if g.rng.IntN(2) == 0 {
		b = append(b, tMetadata[e]...)
		open(kID)
		b = g.appendID(append(b, "r-"...))
		shut()
		num(kRetry, g.rng.IntN(3))
		end1()
		end1()
		end1()
	}
	if fault {
		f := faults[g.rng.IntN(len(faults))]
		b = append(b, tCause[e]...)
		open(kID)
		b = g.appendID(b)
		shut()
		str(kType, f.typ)
		str(kMessage, f.msg[e])
		b = append(b, tStack[e]...)
	}
	b = append(b, tSubs[e]...)
	// Remote calls to the segments this one calls, then one AWS call, SQL
	// query or local step.
	for j := i + 1; j < len(segs); j++ {
		if segs[j].caller == i {
			b = g.subsegment(b, segs[j].parent[:], "remote", start, end, status)
		}
	}
	var sub [16]byte
	g.appendID(sub[:0])
	b = g.subsegment(b, sub[:], []string{"aws", "aws", "sql", ""}[g.rng.IntN(4)], start, end, 200)
	b[len(b)-1] = ']'
	b = append(b, '}')
	return g.take(b)
}

func (g *Generator) subsegment(b []byte, id []byte, kind string, start, end float64, status int) []byte {
	e := g.form()
	s := start + (end-start)*0.1*g.rng.Float64()
	ed := s + (end-s)*0.5
	b = append(b, tSubID[e]...)
	b = append(b, id...)
	b = append(b, tSubStart[e]...)
	b = appendMicros(b, s)
	b = append(b, tSubEnd[e]...)
	b = appendMicros(b, ed)
	switch kind {
	case "remote":
		b = append(b, tRemoteName[e]...)
		b = append(b, services[g.rng.IntN(len(services))].host...)
		b = append(b, tRemote[e]...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `}}`...)
		if status >= 500 {
			b = append(b, tFaultTrue[e]...)
		}
	case "aws":
		b = append(b, tDynamo[e]...)
		b = append(b, g.pick(dynamoOps)...)
		b = append(b, tRegion[e]...)
		b = g.appendID(g.appendID(b))
		b = append(b, tTable[e]...)
		b = append(b, g.pick(tables)...)
		b = append(b, tRetries[e]...)
	case "sql":
		b = append(b, tSQL[e]...)
		b = append(b, g.pick(sqlQueries)...)
		b = append(b, tSQLEnd[e]...)
	default:
		b = append(b, tRender[e]...)
	}
	return append(b, `},`...)
}
