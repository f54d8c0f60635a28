// Package cli is Roentgen's terminal client: it lists, draws, exports and
// imports traces by talking to a server over the public X-Ray API with
// aws-sdk-go-v2, as any X-Ray tool would, so it works against Roentgen
// anywhere (or against AWS X-Ray itself).
//
//	roentgen traces [--filter EXPR] [--since 15m]   trace summaries
//	roentgen trace ID                              a timeline of one trace
//	roentgen graph [--since 15m]                   services and edges
//	roentgen export ID... > t.json                 the BatchGetTraces answer
//	roentgen import t.json                         PutTraceSegments of its documents
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/xray"
)

// DefaultEndpoint is where `roentgen` serves the API by default.
const DefaultEndpoint = "http://127.0.0.1:2020"

// Commands are the client's commands, for the binary's dispatch.
var Commands = []string{"traces", "trace", "graph", "export", "import"}

// IsCommand reports whether name is one of Commands.
func IsCommand(name string) bool {
	for _, c := range Commands {
		if c == name {
			return true
		}
	}
	return false
}

// env is one command's run: its flags' values, I/O and client.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	output         string
	client         *xray.Client
	now            func() time.Time
	width          int
}

// Main runs a client command; args[0] is the command. It returns the exit
// code: 0, 1 for a failure, 2 for a usage error.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || !IsCommand(args[0]) {
		fmt.Fprintf(stderr, "roentgen: client commands are %s\n", strings.Join(Commands, ", "))
		return 2
	}
	cmd := args[0]
	fs := flag.NewFlagSet("roentgen "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "", "URL of the X-Ray API (default $AWS_ENDPOINT_URL_XRAY, $AWS_ENDPOINT_URL or "+DefaultEndpoint+")")
	region := fs.String("region", "", "region to sign for (default from the AWS configuration, else us-east-1)")
	e := &env{stdout: stdout, stderr: stderr, stdin: stdin, now: time.Now}
	fs.StringVar(&e.output, "output", "table", "table or json")
	fs.StringVar(&e.output, "o", "table", "shorthand for --output")
	var filter string
	var since time.Duration
	var limit int
	switch cmd {
	case "traces":
		fs.StringVar(&filter, "filter", "", "X-Ray filter expression, e.g. 'service(\"api\") AND responsetime > 1'")
		fs.DurationVar(&since, "since", 15*time.Minute, "how far back to look")
		fs.IntVar(&limit, "limit", 50, "most traces to list")
	case "graph":
		fs.DurationVar(&since, "since", 15*time.Minute, "how far back to look")
	case "trace":
		fs.IntVar(&e.width, "width", 60, "width of the timeline's bars in columns")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: roentgen %s %s[flags]\n\n%s\n\nThe client talks to a server over the X-Ray API with the standard AWS credential chain\n(unsigned if it finds no credentials).\n\nFlags:\n", cmd, usageArgs[cmd], usageText[cmd])
		fs.PrintDefaults()
	}
	if err := fs.Parse(interleaved(fs, args[1:])); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if e.output != "table" && e.output != "json" {
		fmt.Fprintf(stderr, "roentgen %s: --output must be table or json, not %q\n", cmd, e.output)
		return 2
	}
	ctx := context.Background()
	c, err := newClient(ctx, *endpoint, *region)
	if err != nil {
		fmt.Fprintf(stderr, "roentgen %s: %v\n", cmd, err)
		return 1
	}
	e.client = c
	switch cmd {
	case "traces":
		err = e.traces(ctx, filter, since, limit)
	case "graph":
		err = e.graph(ctx, since)
	case "trace":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "roentgen trace: give one trace id")
			return 2
		}
		err = e.trace(ctx, fs.Arg(0))
	case "export":
		if fs.NArg() == 0 {
			fmt.Fprintln(stderr, "roentgen export: give one or more trace ids")
			return 2
		}
		err = e.export(ctx, fs.Args())
	case "import":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "roentgen import: give one file (- for standard input)")
			return 2
		}
		err = e.importFile(ctx, fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "roentgen %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

var usageArgs = map[string]string{"trace": "ID ", "export": "ID... ", "import": "FILE "}

var usageText = map[string]string{
	"traces": "Lists the traces of the last --since (newest first), as GetTraceSummaries finds them.",
	"trace":  "Draws a trace's segments and subsegments as a timeline: bars scaled to the trace's duration.",
	"graph":  "Lists the services of the last --since with their calls to each other: counts and latency.",
	"export": "Writes the BatchGetTraces answer for the traces to standard output (JSON), for import.",
	"import": "Sends the documents of an export (not the inferred segments, which the server derives) with PutTraceSegments.",
}

// interleaved moves flags after the positional arguments to the front, so
// that `roentgen trace ID --output json` works as well as the reverse.
func interleaved(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && i+1 < len(args) {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(flags, pos...)
}

// newClient is aws-sdk-go-v2's X-Ray client from the standard AWS
// configuration (environment, shared files, SSO, IMDS...), pointed at the
// endpoint. A local server needs no keys, so with none found requests go
// unsigned rather than failing.
func newClient(ctx context.Context, endpoint, region string) (*xray.Client, error) {
	if endpoint == "" {
		endpoint = firstNonEmpty(os.Getenv("AWS_ENDPOINT_URL_XRAY"), os.Getenv("AWS_ENDPOINT_URL"), DefaultEndpoint)
	}
	opts := []func(*config.LoadOptions) error{}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Credentials == nil {
		cfg.Credentials = aws.AnonymousCredentials{}
	} else {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := cfg.Credentials.Retrieve(cctx)
		cancel()
		if err != nil {
			cfg.Credentials = aws.AnonymousCredentials{}
		}
	}
	return xray.NewFromConfig(cfg, func(o *xray.Options) { o.BaseEndpoint = aws.String(endpoint) }), nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
