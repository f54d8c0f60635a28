package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsxray "github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/roentgen-tracing/roentgen/internal/daemon"
)

// startDaemonWithKey runs `roentgen daemon` uploading to url with one access
// key from the standard credential chain (the environment).
func startDaemonWithKey(t *testing.T, url, id, secret string) *daemon.Daemon {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	d, err := daemon.Start(context.Background(), daemon.Config{
		UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Endpoint: url, Region: "eu-west-1", LocalMode: true,
		BufferMemoryMB: 8, ShutdownTimeout: 2 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "e2e",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop() })
	return d
}

// sendDatagrams sends n one-segment traces to the daemon's UDP side and
// returns their trace ids.
func sendDatagrams(t *testing.T, d *daemon.Daemon, n int) []string {
	t.Helper()
	conn, err := net.Dial("udp", d.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	now := time.Now()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("1-%08x-%024x", now.Unix(), 0xdae0000+i)
		doc := fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"keyed-daemon","start_time":%d.1,"end_time":%d.2}`, id, 0xd0000+i, now.Unix(), now.Unix())
		if _, err := conn.Write([]byte(`{"format":"json","version":1}` + "\n" + doc)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// The daemon signs its uploads with the key the standard chain gives it: a
// server that checks SigV4 keys stores them, and its sampling rules come
// through the daemon's signing proxy. An `ingest` key is enough.
func TestDaemonUploadsToServerCheckingKeys(t *testing.T) {
	s, _ := startSecured(t)
	d := startDaemonWithKey(t, s.URL("http"), ingestID, ingestSecret)
	ids := sendDatagrams(t, d, 20)

	admin := s.Client(t, withKey(adminID, adminSecret))
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if n := storedOf(t, admin, ids); n == len(ids) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%d of %d traces stored through the daemon with an ingest key", n, len(ids))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The SDKs' sampling call, unsigned on the daemon's TCP side, is signed
	// by the daemon on its way to the server.
	proxy := awsxray.New(awsxray.Options{Region: "eu-west-1", BaseEndpoint: aws.String("http://" + d.Addr("tcp").String()), RetryMaxAttempts: 1,
		Credentials: aws.AnonymousCredentials{}})
	rules, err := proxy.GetSamplingRules(ctx, &awsxray.GetSamplingRulesInput{})
	if err != nil {
		t.Fatalf("GetSamplingRules through the daemon's proxy: %v", err)
	}
	if len(rules.SamplingRuleRecords) == 0 {
		t.Fatal("no sampling rules through the daemon's proxy (the Default rule is always there)")
	}
}

// A daemon with a wrong secret has its uploads refused: nothing is stored.
func TestDaemonWithWrongSecretStoresNothing(t *testing.T) {
	s, _ := startSecured(t)
	d := startDaemonWithKey(t, s.URL("http"), ingestID, "not-the-secret-0123456")
	ids := sendDatagrams(t, d, 5)
	if err := d.Stop(); err != nil {
		t.Logf("stop: %v", err)
	}
	if n := storedOf(t, s.Client(t, withKey(adminID, adminSecret)), ids); n != 0 {
		t.Fatalf("%d traces stored from a daemon signing with a wrong secret", n)
	}
}

// storedOf counts the traces of ids that BatchGetTraces finds, five ids a
// call as X-Ray takes them.
func storedOf(t *testing.T, c *awsxray.Client, ids []string) int {
	t.Helper()
	n := 0
	for i := 0; i < len(ids); i += 5 {
		out, err := c.BatchGetTraces(context.Background(), &awsxray.BatchGetTracesInput{TraceIds: ids[i:min(i+5, len(ids))]})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Traces)
	}
	return n
}
