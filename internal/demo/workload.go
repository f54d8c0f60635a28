// Package demo is a realistic multi-service workload for a first look at
// Roentgen: a web frontend calling services, DynamoDB, S3, SQS, SNS, a SQL
// database and an external HTTP API, with users, annotations, random
// 4xx/429/5xx, exceptions with stack frames and slow calls. Its documents
// go through the real ingest path as UDP datagrams, as an SDK sends them.
package demo

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// Generator makes the traces of the demo shop. It is not safe for
// concurrent use.
type Generator struct {
	rnd *rand.Rand
}

// NewGenerator returns a generator; the same seed gives the same traces.
func NewGenerator(seed uint64) *Generator {
	return &Generator{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// node is one segment or subsegment under construction.
type node struct {
	doc      map[string]any
	start    float64
	end      float64
	children []*node
}

func (n *node) set(k string, v any) *node { n.doc[k] = v; return n }

func (g *Generator) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rnd.IntN(16)]
	}
	return string(b)
}

// latency draws a log-normal duration around median seconds; now and then
// (slowP) a call is ten times slower.
func (g *Generator) latency(median, slowP float64) float64 {
	d := median * math.Exp(g.rnd.NormFloat64()*0.35)
	if g.rnd.Float64() < slowP {
		d *= 6 + 6*g.rnd.Float64()
	}
	return d
}

func (g *Generator) pick(xs ...string) string { return xs[g.rnd.IntN(len(xs))] }

// trace is one request's documents under construction.
type trace struct {
	g        *Generator
	id       string
	segments []*node
}

func (t *trace) segment(name, origin string, parent string, start float64) *node {
	n := &node{doc: map[string]any{"name": name, "id": t.g.hex(16), "trace_id": t.id, "start_time": start}, start: start}
	if origin != "" {
		n.doc["origin"] = origin
	}
	if parent != "" {
		n.doc["parent_id"] = parent
	}
	n.doc["aws"] = map[string]any{"xray": map[string]any{"sdk": "X-Ray for Go", "sdk_version": "1.8.5"}}
	n.doc["service"] = map[string]any{"version": "1.4." + fmt.Sprint(t.g.rnd.IntN(3))}
	t.segments = append(t.segments, n)
	return n
}

func (t *trace) sub(parent *node, name string, start float64) *node {
	n := &node{doc: map[string]any{"name": name, "id": t.g.hex(16), "start_time": start}, start: start}
	parent.children = append(parent.children, n)
	return n
}

func finish(n *node, end float64) {
	n.end = end
	n.doc["end_time"] = end
}

// status marks a node and its http response for an HTTP status.
func status(n *node, code int) {
	switch {
	case code == 429:
		n.doc["throttle"] = true
		n.doc["error"] = true
	case code >= 500:
		n.doc["fault"] = true
	case code >= 400:
		n.doc["error"] = true
	}
}

func (g *Generator) exception(typ, msg string, remote bool, frames ...string) map[string]any {
	stack := make([]map[string]any, 0, len(frames))
	for _, f := range frames {
		label, path, _ := strings.Cut(f, "@")
		stack = append(stack, map[string]any{"label": label, "path": path, "line": 20 + g.rnd.IntN(400)})
	}
	return map[string]any{"id": g.hex(16), "type": typ, "message": msg, "remote": remote, "stack": stack}
}

func cause(n *node, exc ...map[string]any) {
	n.doc["cause"] = map[string]any{"working_directory": "/srv/app", "exceptions": exc}
}

// Trace returns the documents of one request that arrived at start.
func (g *Generator) Trace(start time.Time) [][]byte {
	t := &trace{g: g, id: fmt.Sprintf("1-%08x-%s", start.Unix(), g.hex(24))}
	t0 := float64(start.UnixMicro()) / 1e6
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace"}
	user := users[g.rnd.IntN(len(users))]
	tier := g.pick("gold", "silver", "silver", "bronze", "bronze", "bronze")
	fe := t.segment("frontend", "AWS::EC2::Instance", "", t0)
	fe.set("user", user)
	fe.set("annotations", map[string]any{"customer_tier": tier, "region": g.pick("eu-west-1", "us-east-1"), "new_checkout": g.rnd.IntN(2) == 0})
	fe.set("metadata", map[string]any{"default": map[string]any{"build": "2026.11.3", "feature_flags": []string{"new_checkout", "fast_search"}}})

	route := g.rnd.Float64()
	var method, path string
	at := t0 + 0.0005
	code := 200
	switch {
	case route < 0.35:
		method, path = "GET", fmt.Sprintf("/products/%d", 1000+g.rnd.IntN(400))
		at, code = g.callCatalog(t, fe, at)
		at = g.s3(t, fe, at, "GetObject", "shop-assets", "img/"+g.hex(8)+".jpg")
	case route < 0.55:
		method, path = "GET", "/search?q="+g.pick("lamp", "chair", "desk", "sofa", "rug")
		at, code = g.callSearch(t, fe, at)
	case route < 0.80:
		method, path = "POST", "/cart"
		at, code = g.callCart(t, fe, at)
	default:
		method, path = "POST", "/checkout"
		at, code = g.callCart(t, fe, at)
		if code < 400 {
			at, code = g.callCheckout(t, fe, at, tier)
		}
	}
	if code < 400 && g.rnd.Float64() < 0.03 {
		code = 404
	}
	if code >= 500 {
		code = 502
		cause(fe, g.exception("UpstreamError", "upstream call failed: "+path, true, "handleRequest@frontend/server.go", "ServeHTTP@net/http/server.go"))
	}
	status(fe, code)
	fe.set("http", map[string]any{
		"request":  map[string]any{"method": method, "url": "https://shop.example.com" + path, "user_agent": g.pick("Mozilla/5.0 (Macintosh)", "Mozilla/5.0 (iPhone)", "curl/8.5"), "client_ip": fmt.Sprintf("203.0.113.%d", 1+g.rnd.IntN(250))},
		"response": map[string]any{"status": code, "content_length": 200 + g.rnd.IntN(9000)},
	})
	finish(fe, at+0.0008)
	return t.documents()
}

// httpCall adds a traced HTTP subsegment on caller and the callee's segment.
func (g *Generator) httpCall(t *trace, caller *node, service, origin, method, path string, start float64) (sub, seg *node) {
	sub = t.sub(caller, service, start)
	sub.set("namespace", "remote")
	seg = t.segment(service, origin, sub.doc["id"].(string), start+0.0004)
	url := "http://" + service + ".internal" + path
	sub.set("http", map[string]any{"request": map[string]any{"method": method, "url": url, "traced": true}})
	seg.set("http", map[string]any{"request": map[string]any{"method": method, "url": url}})
	return sub, seg
}

func closeHTTP(sub, seg *node, code int, end float64) {
	status(seg, code)
	status(sub, code)
	seg.doc["http"].(map[string]any)["response"] = map[string]any{"status": code}
	sub.doc["http"].(map[string]any)["response"] = map[string]any{"status": code}
	finish(seg, end)
	finish(sub, end+0.0004)
}

func (g *Generator) callCatalog(t *trace, fe *node, at float64) (float64, int) {
	sub, seg := g.httpCall(t, fe, "catalog", "AWS::ECS::Container", "GET", "/items", at)
	x := seg.start + 0.0003
	x, code := g.dynamo(t, seg, x, "GetItem", "products", 0.004)
	if code == 200 && g.rnd.Float64() < 0.5 {
		x, code = g.dynamo(t, seg, x, "Query", "reviews", 0.007)
	}
	if code == 429 {
		code = 503
		cause(seg, g.exception("ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded", true,
			"GetItem@github.com/aws/aws-sdk-go-v2/service/dynamodb/api_op_GetItem.go", "loadProduct@catalog/products.go", "handleItems@catalog/server.go"))
	}
	closeHTTP(sub, seg, code, x+g.latency(0.001, 0))
	return sub.end + 0.0003, code
}

func (g *Generator) callSearch(t *trace, fe *node, at float64) (float64, int) {
	sub, seg := g.httpCall(t, fe, "search", "AWS::ECS::Container", "GET", "/query", at)
	x := seg.start + 0.0003
	os := t.sub(seg, "opensearch.internal", x)
	os.set("namespace", "remote")
	code := 200
	if g.rnd.Float64() < 0.04 {
		code = 500
	}
	os.set("http", map[string]any{"request": map[string]any{"method": "POST", "url": "https://opensearch.internal:9200/products/_search"}, "response": map[string]any{"status": code}})
	status(os, code)
	finish(os, x+g.latency(0.025, 0.05))
	if code >= 500 {
		cause(seg, g.exception("SearchUnavailable", "opensearch returned 500: shard failure", true, "Search@search/engine.go", "handleQuery@search/server.go"))
	}
	closeHTTP(sub, seg, code, os.end+0.001)
	return sub.end + 0.0003, code
}

func (g *Generator) callCart(t *trace, fe *node, at float64) (float64, int) {
	sub, seg := g.httpCall(t, fe, "cart", "AWS::ECS::Container", "POST", "/items", at)
	seg.set("annotations", map[string]any{"cart_items": 1 + g.rnd.IntN(8)})
	x, code := g.dynamo(t, seg, seg.start+0.0003, "UpdateItem", "carts", 0.006)
	if code == 429 {
		cause(seg, g.exception("ProvisionedThroughputExceededException", "Rate of requests exceeds the allowed throughput", true,
			"UpdateItem@github.com/aws/aws-sdk-go-v2/service/dynamodb/api_op_UpdateItem.go", "addItem@cart/cart.go"))
	} else if code == 200 && g.rnd.Float64() < 0.04 {
		code = 400
		cause(seg, g.exception("ValidationError", "quantity must be between 1 and 99", false, "validate@cart/cart.go", "addItem@cart/cart.go"))
	}
	closeHTTP(sub, seg, code, x+0.0008)
	return sub.end + 0.0003, code
}

func (g *Generator) callCheckout(t *trace, fe *node, at float64, tier string) (float64, int) {
	sub, seg := g.httpCall(t, fe, "payments", "AWS::ECS::Container", "POST", "/charge", at)
	seg.set("annotations", map[string]any{"customer_tier": tier, "payment_provider": "stripe"})
	x := seg.start + 0.0003
	// The orders database.
	db := t.sub(seg, "orders@db.internal", x)
	db.set("namespace", "remote")
	db.set("sql", map[string]any{"url": "postgresql://db.internal:5432/orders", "database_type": "PostgreSQL", "database_version": "16.2",
		"driver_version": "pgx/v5", "user": "shop", "preparation": "statement", "sanitized_query": "INSERT INTO orders (customer, total) VALUES ($1, $2) RETURNING id"})
	finish(db, x+g.latency(0.006, 0.06))
	x = db.end + 0.0002
	// The card processor, an external API.
	ext := t.sub(seg, "api.stripe.example", x)
	ext.set("namespace", "remote")
	code := 200
	r := g.rnd.Float64()
	switch {
	case r < 0.07:
		code = 500
	case r < 0.10:
		code = 402
	}
	ext.set("http", map[string]any{"request": map[string]any{"method": "POST", "url": "https://api.stripe.example/v1/charges"}, "response": map[string]any{"status": code}})
	status(ext, code)
	finish(ext, x+g.latency(0.12, 0.08))
	x = ext.end + 0.0002
	switch {
	case code >= 500:
		cause(ext, g.exception("PaymentGatewayError", "charge failed: gateway timeout from card network", true,
			"Charge@payments/stripe/client.go", "Pay@payments/service.go", "handleCharge@payments/server.go"))
		cause(seg, g.exception("PaymentGatewayError", "charge failed: gateway timeout from card network", true, "handleCharge@payments/server.go"))
	case code == 402:
		cause(seg, g.exception("CardDeclined", "card declined: insufficient funds", true, "Pay@payments/service.go"))
	default:
		x = g.queue(t, seg, x)
	}
	closeHTTP(sub, seg, code, x+0.0005)
	return sub.end + 0.0003, code
}

func (g *Generator) queue(t *trace, parent *node, x float64) float64 {
	sqs := t.sub(parent, "SQS", x)
	sqs.set("namespace", "aws")
	sqs.set("aws", map[string]any{"operation": "SendMessage", "region": "eu-west-1", "request_id": g.hex(8) + "-" + g.hex(4),
		"queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/order-events", "message_id": g.hex(8)})
	sqs.set("http", map[string]any{"response": map[string]any{"status": 200}})
	finish(sqs, x+g.latency(0.008, 0.02))
	sns := t.sub(parent, "SNS", sqs.end+0.0002)
	sns.set("namespace", "aws")
	sns.set("aws", map[string]any{"operation": "Publish", "region": "eu-west-1", "request_id": g.hex(8),
		"topic_arn": "arn:aws:sns:eu-west-1:123456789012:order-notifications"})
	sns.set("http", map[string]any{"response": map[string]any{"status": 200}})
	finish(sns, sns.start+g.latency(0.01, 0.02))
	return sns.end + 0.0002
}

func (g *Generator) dynamo(t *trace, parent *node, x float64, op, table string, median float64) (float64, int) {
	n := t.sub(parent, "DynamoDB", x)
	n.set("namespace", "aws")
	code := 200
	if g.rnd.Float64() < 0.03 {
		code = 429
	}
	n.set("aws", map[string]any{"operation": op, "table_name": table, "region": "eu-west-1", "request_id": strings.ToUpper(g.hex(20)), "retries": 0})
	n.set("http", map[string]any{"response": map[string]any{"status": code}})
	status(n, code)
	finish(n, x+g.latency(median, 0.03))
	return n.end + 0.0002, code
}

func (g *Generator) s3(t *trace, parent *node, x float64, op, bucket, key string) float64 {
	n := t.sub(parent, "S3", x)
	n.set("namespace", "aws")
	n.set("aws", map[string]any{"operation": op, "bucket_name": bucket, "key": key, "region": "eu-west-1", "request_id": strings.ToUpper(g.hex(16))})
	n.set("http", map[string]any{"response": map[string]any{"status": 200}})
	finish(n, x+g.latency(0.015, 0.03))
	return n.end + 0.0002
}

// documents returns the segments in the order they end, as SDKs send
// them: callees before their callers.
func (t *trace) documents() [][]byte {
	segs := append([]*node(nil), t.segments...)
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].end < segs[j].end })
	out := make([][]byte, 0, len(segs))
	for _, s := range segs {
		b, err := json.Marshal(tree(s))
		if err != nil {
			panic(err) // only maps of plain values: cannot fail
		}
		out = append(out, b)
	}
	return out
}

func tree(n *node) map[string]any {
	if len(n.children) > 0 {
		subs := make([]map[string]any, len(n.children))
		for i, c := range n.children {
			subs[i] = tree(c)
		}
		n.doc["subsegments"] = subs
	}
	return n.doc
}
