package findings

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless-capable Chromium, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestHTMLInChromium opens the report in headless Chromium with every
// network request refused, and checks that the DOM holds the drawing and
// the table and that the screenshot shows boxes in the severity colours.
// It is skipped when Chromium is not installed (Debian: apt-get install
// chromium).
func TestHTMLInChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("Chromium not installed")
	}
	rep := goldenReport(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	must(t, rep.WriteHTML(&b))
	must(t, os.WriteFile(page, b.Bytes(), 0o644))
	shot := filepath.Join(dir, "report.png")
	if dst := os.Getenv("FINDINGS_SCREENSHOT"); dst != "" {
		shot = dst // keep it to look at
	}
	run := func(extra ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--no-first-run", "--disable-extensions",
			// No network: every host resolves to nothing and any proxy is refused.
			"--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--window-size=1200,1400"}, extra...)
		args = append(args, "file://"+page)
		cmd := exec.CommandContext(ctx, bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
		}
		return stdout.Bytes()
	}
	dom := string(run("--dump-dom"))
	boxes := strings.Count(dom, "<rect")
	g := rep.graph()
	want := len(g.keys) + len(g.accounts) + len(g.folders) + len(Severities()) + 1 // nodes and the legend
	if boxes != want {
		t.Errorf("the rendered DOM has %d rects, want %d", boxes, want)
	}
	if !strings.Contains(dom, `id="findings"`) || strings.Count(dom, "<tr>") < len(rep.Findings)+1 {
		t.Errorf("the rendered DOM lacks the findings table")
	}
	run("--screenshot=" + shot)
	f, err := os.Open(shot)
	must(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	must(t, err)
	// The drawing is on screen when pixels of the error and warning
	// colours are.
	seen := map[[3]uint32]int{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, b >> 8}]++
		}
	}
	for name, c := range map[string][3]uint32{"error": {0xb0, 0x00, 0x20}, "security-warning": {0xd9, 0x48, 0x0f}, "warning": {0xb0, 0x89, 0x00}} {
		if seen[c] < 50 {
			t.Errorf("the screenshot has %d pixels of the %s colour; the drawing did not render", seen[c], name)
		}
	}
}
