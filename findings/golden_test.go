package findings

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/internal/golden"
)

// goldenReport scans the seeded organisation with one accepted finding.
func goldenReport(t *testing.T) *Report {
	t.Helper()
	o := newOrg(t, true)
	rep, err := Scan(context.Background(), o.config, o.target, Options{
		Accept: []Acceptance{{Code: "outside-directory", Reason: "partner contract 42, reviewed 2026-11"}}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

var writers = []struct {
	ext   string
	write func(*Report, *bytes.Buffer) error
}{
	{"txt", func(r *Report, b *bytes.Buffer) error { return r.WriteText(b) }},
	{"json", func(r *Report, b *bytes.Buffer) error { return r.WriteJSON(b) }},
	{"sarif", func(r *Report, b *bytes.Buffer) error { return r.WriteSARIF(b) }},
	{"html", func(r *Report, b *bytes.Buffer) error { return r.WriteHTML(b) }},
	{"dot", func(r *Report, b *bytes.Buffer) error { return r.WriteDOT(b) }},
}

// TestGolden: every output of the seeded organisation, byte for byte, and
// the same bytes on a second, independent run.
func TestGolden(t *testing.T) {
	t.Parallel()
	first, second := goldenReport(t), goldenReport(t)
	for _, w := range writers {
		var a, b bytes.Buffer
		if err := w.write(first, &a); err != nil {
			t.Fatal(err)
		}
		if err := w.write(second, &b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: two scans of the same organisation differ", w.ext)
		}
		golden.Check(t, "testdata/report."+w.ext, a.Bytes(), "go test ./findings -run TestGolden -update")
	}
}

func TestSARIFShape(t *testing.T) {
	t.Parallel()
	rep := goldenReport(t)
	var b bytes.Buffer
	if err := rep.WriteSARIF(&b); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID       string `json:"ruleId"`
				RuleIndex    int    `json:"ruleIndex"`
				Level        string `json:"level"`
				Suppressions []struct {
					Justification string `json:"justification"`
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if len(run.Results) != len(rep.Findings)+len(rep.Accepted) {
		t.Errorf("%d results for %d findings and %d accepted", len(run.Results), len(rep.Findings), len(rep.Accepted))
	}
	suppressed := 0
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s points at rule %d", r.RuleID, r.RuleIndex)
		}
		if r.Level != "error" && r.Level != "warning" && r.Level != "note" {
			t.Errorf("level %q", r.Level)
		}
		if len(r.Suppressions) > 0 && r.Suppressions[0].Justification != "" {
			suppressed++
		}
	}
	if suppressed != len(rep.Accepted) {
		t.Errorf("%d suppressed results, want %d", suppressed, len(rep.Accepted))
	}
}

// TestHTMLSelfContained: the page references nothing outside itself.
func TestHTMLSelfContained(t *testing.T) {
	t.Parallel()
	rep := goldenReport(t)
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	fetch := regexp.MustCompile(`(?i)(\ssrc=|\shref=|@import|url\(|<script|<link|<iframe|<img)`)
	if m := fetch.FindString(page); m != "" {
		t.Errorf("the page may fetch something: %q", m)
	}
	for _, s := range []string{"<svg id=\"graph\"", "<table id=\"findings\">", "outside the directory", colour(SeverityError)} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
}
