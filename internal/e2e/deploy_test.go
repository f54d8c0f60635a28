package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The deployment artefacts (Dockerfile, the Kubernetes DaemonSet and
// sidecar, the systemd unit) can't be run here: no Docker, kubelet or
// systemd. What they say to the binary can: each one's daemon command
// line, with only its addresses, endpoint and directories pointed at this
// test, must start the real binary, carry segments to a server, and stop
// cleanly on SIGTERM. A flag renamed in the code and not in an artefact
// fails here.
func TestDeploymentArtefactsRunTheDaemon(t *testing.T) {
	root := filepath.Join("..", "..")
	unitArgs, unitEnv := systemdExecStart(t, filepath.Join(root, "deploy", "systemd", "roentgen-daemon.service"))
	cases := map[string][]string{
		"Dockerfile CMD":                 dockerCmd(t, filepath.Join(root, "Dockerfile")),
		"systemd ExecStart":              unitArgs,
		"kubernetes DaemonSet container": k8sDaemonArgs(t, filepath.Join(root, "deploy", "kubernetes", "daemonset.yaml")),
		"kubernetes sidecar container":   k8sDaemonArgs(t, filepath.Join(root, "deploy", "kubernetes", "sidecar.yaml")),
	}
	bin := buildBinary(t)
	s := startServer(t)
	n := 0
	for name, args := range cases {
		n++
		first := 9100 + 100*n
		t.Run(name, func(t *testing.T) {
			if len(args) == 0 || args[0] != "daemon" {
				t.Fatalf("the artefact's command is not the daemon: %q", args)
			}
			addr := freePort(t)
			args = localise(args, addr, s.URL("http"), t.TempDir())
			var env []string
			if name == "systemd ExecStart" {
				env = unitEnv
			}
			runDaemonArgs(t, bin, args, env, addr, s, first)
		})
	}
}

// localise points an artefact's command line at this test: its listeners
// at addr, uploads at endpoint, its spool under dir; every other flag
// stays as the artefact gives it. One without an endpoint (the image's
// default command uploads to AWS X-Ray) gets one, in local mode.
func localise(args []string, addr, endpoint, dir string) []string {
	out := []string{}
	hasEndpoint := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, inline := strings.Cut(a, "=")
		set := func(v string) {
			if inline {
				out = append(out, name+"="+v)
			} else {
				out = append(out, name, v)
				i++ // the artefact's value, replaced
			}
		}
		switch name {
		case "-b", "--bind", "-t", "--bind-tcp":
			set(addr)
		case "-e", "--endpoint":
			hasEndpoint = true
			set(endpoint)
		case "--spool-dir":
			set(filepath.Join(dir, "spool"))
		case "--metrics":
			set("127.0.0.1:0")
		default:
			out = append(out, a)
		}
	}
	if !hasEndpoint {
		out = append(out, "-e", endpoint, "-o", "-n", "us-east-1")
	}
	// Listeners the artefact leaves at their defaults (:2000) go to addr.
	if !containsFlag(out, "-b", "--bind") {
		out = append(out, "-b", addr)
	}
	if !containsFlag(out, "-t", "--bind-tcp") {
		out = append(out, "-t", addr)
	}
	return out
}

func containsFlag(args []string, names ...string) bool {
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		for _, n := range names {
			if name == n {
				return true
			}
		}
	}
	return false
}

// runDaemonArgs starts the binary with args, sends 20 segments to addr
// over UDP, stops it with SIGTERM and expects all 20 in the server.
func runDaemonArgs(t *testing.T, bin string, args, env []string, addr string, s *server, first int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDDEPLOY", "AWS_SECRET_ACCESS_KEY=deploy", "AWS_EC2_METADATA_DISABLED=true")
	cmd.Env = append(cmd.Env, env...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	started, ended := make(chan struct{}), make(chan struct{})
	var logs safeLog
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.add(sc.Text())
			if strings.Contains(sc.Text(), "daemon started") {
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-ended:
		cmd.Wait()
		t.Fatalf("roentgen %s exited at start:\n%s", strings.Join(args, " "), logs.String())
	case <-time.After(30 * time.Second): // a guard only
		t.Fatalf("roentgen %s did not start:\n%s", strings.Join(args, " "), logs.String())
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 5)
	for i := range ids {
		ids[i] = newTraceID(first + i)
	}
	for i := range 20 {
		d := segDoc(ids[i%len(ids)], fmt.Sprintf("%016x", first*100+i), "deploy-app")
		c.Write([]byte(`{"format":"json","version":1}` + "\n" + d))
	}
	c.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("roentgen %s: exit %v\n%s", strings.Join(args, " "), err, logs.String())
	}
	got := 0
	for _, tr := range s.waitTraces(ids...) {
		got += len(tr.Segments)
	}
	if got != 20 {
		t.Fatalf("roentgen %s: %d of 20 segments stored", strings.Join(args, " "), got)
	}
}

// dockerCmd is the Dockerfile's CMD (its exec form), what the image runs
// by default.
func dockerCmd(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "CMD "); ok {
			var args []string
			if err := json.Unmarshal([]byte(rest), &args); err != nil {
				t.Fatalf("%s: CMD is not in exec form: %v", path, err)
			}
			return args
		}
	}
	t.Fatalf("%s has no CMD", path)
	return nil
}

// systemdExecStart is the unit's ExecStart after the binary, with its
// Environment= variables and %S (the state directory) expanded, and those
// variables as the process's environment.
func systemdExecStart(t *testing.T, path string) (args, environ []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	var exec string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Environment="); ok {
			k, val, _ := strings.Cut(v, "=")
			env[k] = val
			environ = append(environ, v)
		}
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			exec = v
		}
	}
	if exec == "" {
		t.Fatalf("%s has no ExecStart", path)
	}
	exec = os.Expand(strings.ReplaceAll(exec, "%S", "/var/lib"), func(k string) string { return env[k] })
	fields := strings.Fields(exec)
	if filepath.Base(fields[0]) != "roentgen" {
		t.Fatalf("%s starts %s, not roentgen", path, fields[0])
	}
	return fields[1:], environ
}

// k8sDaemonArgs is the args of the container that runs the roentgen image
// in a manifest.
func k8sDaemonArgs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
	}
	var found []string
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc struct {
			Spec struct {
				Template struct {
					Spec struct {
						Containers     []container `yaml:"containers"`
						InitContainers []container `yaml:"initContainers"` // a native sidecar`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		pod := doc.Spec.Template.Spec
		for _, c := range append(pod.InitContainers, pod.Containers...) {
			if strings.Contains(c.Image, "roentgen") {
				found = c.Args
			}
		}
	}
	if found == nil {
		t.Fatalf("%s has no container of the roentgen image", path)
	}
	return found
}

// safeLog collects a child's log lines from its reader goroutine.
type safeLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *safeLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

func (l *safeLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
