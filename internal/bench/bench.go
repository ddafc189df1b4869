// Package bench measures the running product from outside, the way an
// office's users and operators feel it.
package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Server is a running biaogan process.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	dir  string
	bin  string
	env  []string
	Took time.Duration // exec to /readyz
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs the binary with extra args and env and waits for /readyz.
func Start(bin string, env []string, args ...string) (*Server, error) {
	dir, err := os.MkdirTemp("", "biaogan-bench-")
	if err != nil {
		return nil, err
	}
	return startIn(dir, bin, env, args...)
}

// Restart stops the server and starts the binary again on the same data
// (without the demo flag: the data is there), as an office restarts it.
func (s *Server) Restart() (*Server, error) {
	s.stop()
	return startIn(s.dir, s.bin, s.env)
}

func startIn(dir, bin string, env []string, args ...string) (*Server, error) {
	addr := freeAddr()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", filepath.Join(dir, "data")}, args...)...)
	cmd.Env = append(append(os.Environ(), "BIAOGAN_LOGIN_PER_MINUTE=1000000", "BIAOGAN_LOG_LEVEL=warn"), env...)
	cmd.Stdout = io.Discard
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + addr, cmd: cmd, dir: dir, bin: bin, env: env}
	c := &http.Client{Timeout: time.Second}
	for time.Since(start) < 120*time.Second {
		resp, err := c.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				s.Took = time.Since(start)
				return s, nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("server not ready: %s", stderr.String())
}

// Stop ends the process and removes its data.
func (s *Server) Stop() {
	s.stop()
	os.RemoveAll(s.dir)
}

func (s *Server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// RSS is the resident set size in MB.
func (s *Server) RSS() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// Login returns a bearer token.
func (s *Server) Login(user, pw string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	resp, err := http.Post(s.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		return "", fmt.Errorf("login %s: status %d %v", user, resp.StatusCode, err)
	}
	return out.Token, nil
}

// Latencies summarises a run.
type Latencies struct {
	N        int
	P50, P99 time.Duration
	RPS      float64
	Errors   int
}

func summarise(ds []time.Duration, wall time.Duration, errs int) Latencies {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	l := Latencies{N: len(ds), Errors: errs}
	if len(ds) > 0 {
		l.P50 = ds[len(ds)*50/100]
		l.P99 = ds[min(len(ds)-1, len(ds)*99/100)]
		l.RPS = float64(len(ds)) / wall.Seconds()
	}
	return l
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "model name") {
				model = strings.TrimSpace(strings.SplitN(sc.Text(), ":", 2)[1])
				break
			}
		}
		f.Close()
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:")), "%f", &kb)
		mem = fmt.Sprintf(", %.0f GiB RAM", kb/1024/1024)
	}
	return fmt.Sprintf("%s, %d cores%s, %s/%s, %s", model, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
