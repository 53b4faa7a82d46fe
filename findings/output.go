package findings

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for people: a summary, then each finding
// with its location and fix.
func (r *Report) WriteText(w io.Writer) error {
	b := bufio.NewWriter(w)
	shared := 0
	for _, k := range r.Keys {
		if k.Shared() {
			shared++
		}
	}
	fmt.Fprintf(b, "directory %s: %d keys in %d instances of %s in %s; %d shared with %d accounts\n",
		r.Directory, len(r.Keys), len(r.Instances), strings.Join(r.Accounts, ", "), strings.Join(r.Regions, ", "), shared, len(r.Recipients))
	if r.TrustFolder != "" {
		fmt.Fprintf(b, "trust zone: %s (%s)\n", r.TrustFolder, r.folderName(r.TrustFolder))
	}
	for _, f := range r.Findings {
		writeTextFinding(b, f)
	}
	counts := map[Severity]int{}
	for _, f := range r.Findings {
		counts[f.Severity]++
	}
	var parts []string
	for _, s := range Severities() {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	summary := "no findings"
	if len(parts) > 0 {
		summary = fmt.Sprintf("%d findings (%s)", len(r.Findings), strings.Join(parts, ", "))
	}
	fmt.Fprintf(b, "\n%s; %d accepted\n", summary, len(r.Accepted))
	for _, f := range r.Accepted {
		fmt.Fprintf(b, "accepted %s %s %s: %s\n", f.ID, f.Code, f.Location(), f.AcceptedBecause)
	}
	for _, a := range r.UnusedAcceptances {
		fmt.Fprintf(b, "unused acceptance (matches nothing): id=%q code=%q key=%q principal=%q\n", a.ID, a.Code, a.Key, a.Principal)
	}
	for _, p := range r.Principals {
		if !p.Checked {
			fmt.Fprintf(b, "RAM side not read: %s: %s\n", p.ARN, p.Reason)
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(b, "not read: %s: %s\n", p.Subject, p.Error)
	}
	return b.Flush()
}

func writeTextFinding(w io.Writer, f Finding) {
	fmt.Fprintf(w, "\n%s %s [%s]\n  at %s\n", f.Severity, f.Code, f.ID, f.Location())
	if f.Principal != "" {
		fmt.Fprintf(w, "  principal %s\n", f.Principal)
	}
	fmt.Fprintf(w, "  %s\n  fix: %s\n", f.Message, f.Fix)
}

// WriteJSON writes the whole report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// SARIF 2.1.0, the subset code-scanning views read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	ShortDescription     sarifText      `json:"shortDescription"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]string  `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

func sarifLevel(s Severity) string {
	switch s {
	case SeverityError, SeveritySecurityWarning:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return "note"
}

// securitySeverity is the CVSS-like score code-scanning views sort by.
func securitySeverity(s Severity) string {
	switch s {
	case SeverityError:
		return "8.0"
	case SeveritySecurityWarning:
		return "7.0"
	case SeverityWarning:
		return "4.0"
	}
	return "1.0"
}

// WriteSARIF writes the findings as a SARIF 2.1.0 log. A finding's
// location is its key (or instance) ARN as the artifact and the JSON
// pointer as a logical location; accepted findings are results with an
// external suppression carrying the reason.
func (r *Report) WriteSARIF(w io.Writer) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "kmsshare findings", InformationURI: "https://github.com/kmsshare/kmsshare"}},
		Results: []sarifResult{}}
	index := map[string]int{}
	for i, rl := range rules {
		index[rl.Code] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: rl.Code, ShortDescription: sarifText{rl.Title},
			DefaultConfiguration: sarifConfig{sarifLevel(rl.Severity)},
			Properties:           map[string]any{"severity": string(rl.Severity), "security-severity": securitySeverity(rl.Severity), "tags": []string{"security", "kms"}}})
	}
	result := func(f Finding) sarifResult {
		uri := f.Key
		if uri == "" {
			uri = "acs:kms:" + f.Account + ":keystore/" + f.Instance
		}
		ptr := pointerOf(f)
		res := sarifResult{RuleID: f.Code, RuleIndex: index[f.Code], Level: sarifLevel(f.Severity),
			Message: sarifText{f.Message + " Fix: " + f.Fix},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{sarifArtifact{uri}},
				LogicalLocations: []sarifLogical{{Name: f.Document + ptr, FullyQualifiedName: uri + "#" + f.Document + ptr, Kind: "resource"}}}},
			PartialFingerprints: map[string]string{"kmsshareFinding/v1": f.ID},
			Properties:          map[string]string{"severity": string(f.Severity), "account": f.Account}}
		if f.Principal != "" {
			res.Properties["principal"] = f.Principal
		}
		if f.AcceptedBecause != "" {
			res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: f.AcceptedBecause}}
		}
		return res
	}
	for _, f := range r.Findings {
		run.Results = append(run.Results, result(f))
	}
	for _, f := range r.Accepted {
		run.Results = append(run.Results, result(f))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

// WriteDOT writes the graph of keys → accounts → folders for Graphviz:
// nodes and edges carry the colour of their most serious finding.
func (r *Report) WriteDOT(w io.Writer) error {
	g := r.graph()
	b := bufio.NewWriter(w)
	q := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
	}
	fmt.Fprintf(b, "digraph findings {\n  rankdir=LR;\n  node [shape=box, style=\"rounded\", fontname=\"Helvetica\"];\n  label=%s;\n", q("KMS key sharing in "+r.Directory))
	for ci, col := range [][]node{g.keys, g.accounts, g.folders} {
		fmt.Fprintf(b, "  subgraph cluster_%d {\n    label=%s;\n", ci, q([]string{"keys", "accounts", "folders"}[ci]))
		for _, n := range col {
			fmt.Fprintf(b, "    %s [label=%s, color=%s, penwidth=%d];\n", q(n.id), q(n.title+"\n"+n.sub), q(colour(n.worst)), penwidth(n.worst))
		}
		b.WriteString("  }\n")
	}
	for _, e := range g.edges {
		fmt.Fprintf(b, "  %s -> %s [color=%s, tooltip=%s];\n", q(e.from), q(e.to), q(colour(e.worst)), q(e.label))
	}
	b.WriteString("}\n")
	return b.Flush()
}

func penwidth(s Severity) int {
	if s == "" {
		return 1
	}
	return 2
}

// colour is the severity's colour in the drawings.
func colour(s Severity) string {
	switch s {
	case SeverityError:
		return "#b00020"
	case SeveritySecurityWarning:
		return "#d9480f"
	case SeverityWarning:
		return "#b08900"
	case SeveritySuggestion:
		return "#1864ab"
	}
	return "#5c6b73"
}
