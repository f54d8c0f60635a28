// Package bench makes load for Roentgen's benchmarks: a generator of
// realistic segment documents (multi-service traces shaped like the
// recordings of the official SDKs in internal/fixtures) and the driver of
// cmd/roentgen-bench, which sends them to a running server over HTTP or UDP
// and measures throughput, CPU, memory and disk.
package bench

import (
	"encoding/hex"
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

	rng   *rand.Rand
	arena []byte // documents are written into this and returned from it
}

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed uint64) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
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
	faults     = []struct{ typ, msg string }{{"net.OpError", "dial tcp 10.0.3.17:5432: connect: connection refused"}, {"TimeoutError", "upstream request timed out after 3000ms"}, {"ValueError", "invalid literal for int() with base 10: 'three'"}, {"NullPointerException", "Cannot invoke \\\"Order.getId()\\\" because \\\"order\\\" is null"}}
)

// Trace returns the documents of one trace of n segments (n <= 0: a random
// size, 1 to 8 with mean ~4) whose trace id carries the epoch of at and
// whose times lie just before at. Each document is ~1 kB of JSON.
func (g *Generator) Trace(at time.Time, n int) (traceID string, docs [][]byte) {
	if n <= 0 {
		n = 1 + g.rng.IntN(4) + g.rng.IntN(4)
	}
	traceID = g.TraceID(at)
	start := float64(at.UnixNano())/1e9 - 0.5
	// Callers: each segment after the first is called by an earlier one
	// through a remote subsegment of that earlier segment.
	type seg struct {
		id, parent, callSub string
		svc                 service
		start, end          float64
		status              int
		fault, err          bool
	}
	segs := make([]seg, n)
	dur := 0.02 + g.rng.Float64()*0.3
	outcome := g.rng.IntN(100) // < 3: fault, < 8: client error
	for i := range segs {
		s := &segs[i]
		s.id = g.id()
		s.svc = services[g.rng.IntN(len(services))]
		if i == 0 {
			s.svc = services[g.rng.IntN(2)]
			s.start, s.end = start, start+dur
		} else {
			caller := &segs[g.rng.IntN(i)]
			s.parent = g.id()
			caller.callSub += s.parent + ","
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
	user := ""
	if g.rng.IntN(2) == 0 {
		user = "user-" + strconv.Itoa(g.rng.IntN(5000))
	}
	for _, s := range segs {
		docs = append(docs, g.segment(traceID, s.id, s.parent, s.callSub, s.svc, s.start, s.end, s.status, s.fault, s.err, user))
		user = ""
	}
	return traceID, docs
}

// TraceID returns a new X-Ray trace id with the epoch of at.
func (g *Generator) TraceID(at time.Time) string {
	var r [12]byte
	for i := range r {
		r[i] = byte(g.rng.Uint32())
	}
	return "1-" + strconv.FormatInt(at.Unix(), 16) + "-" + hex.EncodeToString(r[:])
}

func (g *Generator) id() string {
	var b [16]byte
	return string(g.appendID(b[:0]))
}

// appendID appends a new 64-bit id in hex, drawing what id draws.
func (g *Generator) appendID(b []byte) []byte {
	const digits = "0123456789abcdef"
	for range 8 {
		r := byte(g.rng.Uint32())
		b = append(b, digits[r>>4], digits[r&0xf])
	}
	return b
}

// room returns the arena's free space to write a document into: one
// allocation per ~28 documents instead of one each, and no copy (the
// generator runs beside the server under test, so what it costs is taken
// from the server).
func (g *Generator) room() []byte {
	if cap(g.arena)-len(g.arena) < 4<<10 {
		g.arena = make([]byte, 0, 32<<10)
	}
	return g.arena[len(g.arena):len(g.arena)]
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

// segment writes one segment document. Strings are chosen to need no JSON
// escaping, so plain appends write valid JSON quickly.
func (g *Generator) segment(traceID, id, parent, calls string, svc service, start, end float64, status int, fault, clientErr bool, user string) []byte {
	b := g.room()
	str := func(k, v string) {
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":"`...)
		b = append(b, v...)
		b = append(b, `",`...)
	}
	// open and shut write a string value in parts.
	open := func(k string) {
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":"`...)
	}
	shut := func() { b = append(b, `",`...) }
	num := func(k string, v int) {
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, int64(v), 10)
		b = append(b, ',')
	}
	ts := func(k string, v float64) {
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":`...)
		b = appendMicros(b, v)
		b = append(b, ',')
	}
	boolean := func(k string) { b = append(b, '"'); b = append(b, k...); b = append(b, `":true,`...) }
	end1 := func() { b[len(b)-1] = '}'; b = append(b, ',') } // closes an object opened by the caller
	b = append(b, '{')
	str("trace_id", traceID)
	str("id", id)
	str("name", svc.name)
	str("origin", svc.origin)
	if parent != "" {
		str("parent_id", parent)
	}
	ts("start_time", start)
	ts("end_time", end)
	if fault {
		boolean("fault")
	}
	if clientErr {
		boolean("error")
		if status == 429 {
			boolean("throttle")
		}
	}
	if user != "" {
		str("user", user)
	}
	path := g.pick(paths)
	b = append(b, `"http":{"request":{`...)
	str("method", g.pick(methods))
	open("url")
	b = append(b, "https://"...)
	b = append(b, svc.host...)
	b = append(b, path...)
	shut()
	if parent == "" {
		str("user_agent", g.pick(agents))
	}
	open("client_ip")
	b = append(b, "10.0."...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(256)), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(g.rng.IntN(256)), 10)
	shut()
	end1()
	b = append(b, `"response":{`...)
	num("status", status)
	num("content_length", 200+g.rng.IntN(20000))
	end1()
	end1()
	b = append(b, `"aws":{`...)
	if svc.origin == "AWS::EC2::Instance" {
		b = append(b, `"ec2":{`...)
		open("instance_id")
		b = g.appendID(append(b, "i-0"...))
		shut()
		str("availability_zone", g.pick(zones))
		end1()
	} else {
		b = append(b, `"ecs":{`...)
		open("container")
		b = append(b, svc.name...)
		b = g.appendID(append(b, '-'))
		b = b[:len(b)-8] // half the id
		shut()
		str("availability_zone", g.pick(zones))
		end1()
	}
	b = append(b, `"xray":{`...)
	str("sdk", svc.sdk)
	str("sdk_version", svc.sdkVersion)
	end1()
	end1()
	b = append(b, `"service":{`...)
	open("version")
	b = strconv.AppendInt(append(b, "1."...), int64(g.rng.IntN(9)), 10)
	b = append(b, ".2"...)
	shut()
	str("runtime", svc.runtime)
	str("runtime_version", svc.runtimeVersion)
	end1()
	b = append(b, `"annotations":{`...)
	str("customer_tier", g.pick(tiers))
	num("items", 1+g.rng.IntN(9))
	if g.rng.IntN(4) == 0 {
		boolean("vip")
	}
	end1()
	if g.rng.IntN(2) == 0 {
		b = append(b, `"metadata":{"default":{"request":{`...)
		open("id")
		b = g.appendID(append(b, "r-"...))
		shut()
		num("retry", g.rng.IntN(3))
		end1()
		end1()
		end1()
	}
	if fault {
		f := faults[g.rng.IntN(len(faults))]
		b = append(b, `"cause":{"working_directory":"/srv/app","exceptions":[{`...)
		open("id")
		b = g.appendID(b)
		shut()
		str("type", f.typ)
		str("message", f.msg)
		b = append(b, `"stack":[{"path":"app/handler.go","line":88,"label":"handle"},{"path":"app/db.go","line":214,"label":"query"}]}]},`...)
	}
	b = append(b, `"subsegments":[`...)
	// Remote calls to the segments this one calls, then one AWS call, SQL
	// query or local step.
	for len(calls) > 0 {
		sub := calls[:16]
		calls = calls[17:]
		b = g.subsegment(b, sub, "remote", start, end, status)
	}
	b = g.subsegment(b, g.id(), []string{"aws", "aws", "sql", ""}[g.rng.IntN(4)], start, end, 200)
	b[len(b)-1] = ']'
	b = append(b, '}')
	return g.take(b)
}

func (g *Generator) subsegment(b []byte, id, kind string, start, end float64, status int) []byte {
	s := start + (end-start)*0.1*g.rng.Float64()
	e := s + (end-s)*0.5
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","start_time":`...)
	b = appendMicros(b, s)
	b = append(b, `,"end_time":`...)
	b = appendMicros(b, e)
	switch kind {
	case "remote":
		b = append(b, `,"name":"`...)
		b = append(b, services[g.rng.IntN(len(services))].host...)
		b = append(b, `","namespace":"remote","traced":true,"http":{"request":{"method":"POST","url":"http://svc/v1/call"},"response":{"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `}}`...)
		if status >= 500 {
			b = append(b, `,"fault":true`...)
		}
	case "aws":
		b = append(b, `,"name":"DynamoDB","namespace":"aws","aws":{"operation":"`...)
		b = append(b, g.pick(dynamoOps)...)
		b = append(b, `","region":"us-east-1","request_id":"`...)
		b = g.appendID(g.appendID(b))
		b = append(b, `","table_name":"`...)
		b = append(b, g.pick(tables)...)
		b = append(b, `","retries":0},"http":{"response":{"status":200}}`...)
	case "sql":
		b = append(b, `,"name":"app@db.internal","namespace":"remote","sql":{"url":"postgresql://db.internal:5432/app","database_type":"PostgreSQL","database_version":"15.4","driver_version":"pgx 5.5","user":"app","sanitized_query":"`...)
		b = append(b, g.pick(sqlQueries)...)
		b = append(b, `"}`...)
	default:
		b = append(b, `,"name":"render","metadata":{"default":{"cache":"miss"}}`...)
	}
	return append(b, `},`...)
}
