package findings

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// node is a box of the drawing.
type node struct {
	id, title, sub string
	worst          Severity
}

type edge struct {
	from, to, label string
	worst           Severity
}

type graph struct {
	keys, accounts, folders []node
	edges                   []edge
}

func worse(a, b Severity) Severity {
	if a == "" {
		return b
	}
	if b != "" && b.rank() < a.rank() {
		return b
	}
	return a
}

// placementCodes are the findings about where an account sits.
var placementCodes = []string{"outside-directory", "outside-trust-zone", "dangling-account"}

// graph lays the report out as keys → accounts → folders, each node and
// edge with the most serious finding (not accepted) it carries.
func (r *Report) graph() graph {
	var g graph
	byKey := map[string]Severity{}
	byKeyAccount := map[[2]string]Severity{}
	byAccount := map[string]Severity{}
	placement := map[string]Severity{}
	for _, f := range r.Findings {
		if f.Key != "" {
			byKey[f.Key] = worse(byKey[f.Key], f.Severity)
		}
		if f.Principal == "" {
			continue
		}
		acct := principalAccount(f.Principal)
		byAccount[acct] = worse(byAccount[acct], f.Severity)
		if f.Key != "" {
			byKeyAccount[[2]string{f.Key, acct}] = worse(byKeyAccount[[2]string{f.Key, acct}], f.Severity)
		}
		if slices.Contains(placementCodes, f.Code) {
			placement[acct] = worse(placement[acct], f.Severity)
		}
	}
	wildcard := false
	for _, k := range r.Keys {
		sub := k.Account + " · " + k.Region
		if k.State != "Enabled" {
			sub += " · " + k.State
		}
		g.keys = append(g.keys, node{id: "key:" + k.ARN, title: keyID(k.ARN), sub: sub, worst: byKey[k.ARN]})
		principals := map[string][]string{}
		var accounts []string
		for _, gr := range k.Grants {
			if _, ok := principals[gr.Account]; !ok {
				accounts = append(accounts, gr.Account)
			}
			principals[gr.Account] = append(principals[gr.Account], gr.Principal)
			wildcard = wildcard || gr.Account == "*"
		}
		slices.Sort(accounts)
		for _, a := range accounts {
			g.edges = append(g.edges, edge{from: "key:" + k.ARN, to: "acct:" + a,
				label: strings.Join(slices.Compact(principals[a]), ", "), worst: byKeyAccount[[2]string{k.ARN, a}]})
		}
	}
	folders := map[string]bool{}
	outside := false
	for _, rc := range r.Recipients {
		n := node{id: "acct:" + rc.Account, title: rc.Account, sub: rc.Name, worst: byAccount[rc.Account]}
		if !rc.InDirectory {
			n.sub = "not in the directory"
			outside = true
			g.edges = append(g.edges, edge{from: n.id, to: "folder:", label: "outside " + r.Directory, worst: placement[rc.Account]})
		} else {
			folders[rc.Folder] = true
			g.edges = append(g.edges, edge{from: n.id, to: "folder:" + rc.Folder, label: rc.Path, worst: placement[rc.Account]})
		}
		g.accounts = append(g.accounts, n)
	}
	if wildcard {
		g.accounts = append(g.accounts, node{id: "acct:*", title: "any account", sub: "wildcard principal", worst: byAccount["*"]})
	}
	for _, f := range r.Folders {
		if !folders[f.ID] {
			continue
		}
		sub := f.ID
		if r.TrustFolder != "" && r.inFolder(f.ID, r.TrustFolder) {
			sub += " · trust zone"
		}
		var worst Severity
		for _, rc := range r.Recipients {
			if rc.InDirectory && rc.Folder == f.ID {
				worst = worse(worst, placement[rc.Account])
			}
		}
		g.folders = append(g.folders, node{id: "folder:" + f.ID, title: r.folderName(f.ID), sub: sub, worst: worst})
	}
	if outside {
		var worst Severity
		for _, rc := range r.Recipients {
			if !rc.InDirectory {
				worst = worse(worst, placement[rc.Account])
			}
		}
		g.folders = append(g.folders, node{id: "folder:", title: "outside the directory", sub: "not a member of " + r.Directory, worst: worst})
	}
	return g
}

// inFolder reports whether folder id is folder or below it.
func (r *Report) inFolder(id, folder string) bool {
	for id != "" {
		if id == folder {
			return true
		}
		parent := ""
		for _, f := range r.Folders {
			if f.ID == id {
				parent = f.Parent
			}
		}
		id = parent
	}
	return false
}

func keyID(keyARN string) string {
	a, err := arn.Parse(keyARN)
	if err != nil {
		return keyARN
	}
	return a.ResourceName()
}

// Drawing geometry, in SVG user units.
const (
	colWidth = 330
	colGap   = 70
	boxH     = 46
	rowStep  = 58
	top      = 56
)

type svgBox struct {
	X, Y, W, H   int
	Title, Sub   string
	Stroke, Fill string
	Width        int
	Tooltip      string
}

type svgEdge struct {
	Path, Stroke, Tooltip string
	Width                 int
}

type htmlView struct {
	Report        *Report
	Width, Height int
	Columns       []svgColumn
	Boxes         []svgBox
	Edges         []svgEdge
	Findings      []htmlFinding
	Accepted      []htmlFinding
	Legend        []svgLegend
	Counts        string
}

type svgColumn struct {
	X     int
	Title string
}

type svgLegend struct {
	X      int
	Label  string
	Colour string
}

type htmlFinding struct {
	Finding
	Colour, Where string
}

// WriteHTML writes a self-contained HTML page: an inline SVG drawing of
// keys → accounts → folders coloured by the most serious finding, and the
// findings in a table under it. It fetches nothing: no scripts, fonts,
// style sheets or images from anywhere.
func (r *Report) WriteHTML(w io.Writer) error {
	g := r.graph()
	v := htmlView{Report: r, Width: 3*colWidth + 2*colGap + 40}
	pos := map[string][2]int{}
	rows := 0
	for ci, col := range [][]node{g.keys, g.accounts, g.folders} {
		x := 20 + ci*(colWidth+colGap)
		v.Columns = append(v.Columns, svgColumn{X: x, Title: []string{"Keys", "Accounts", "Folders"}[ci]})
		rows = max(rows, len(col))
		for i, n := range col {
			y := top + i*rowStep
			pos[n.id] = [2]int{x, y}
			b := svgBox{X: x, Y: y, W: colWidth, H: boxH, Title: n.title, Sub: n.sub, Stroke: colour(n.worst), Fill: "#ffffff", Width: 1, Tooltip: n.id}
			if n.worst != "" {
				b.Width, b.Fill = 3, tint(n.worst)
				b.Tooltip += " (" + string(n.worst) + ")"
			}
			v.Boxes = append(v.Boxes, b)
		}
	}
	for _, e := range g.edges {
		from, ok1 := pos[e.from]
		to, ok2 := pos[e.to]
		if !ok1 || !ok2 {
			continue
		}
		x1, y1, x2, y2 := from[0]+colWidth, from[1]+boxH/2, to[0], to[1]+boxH/2
		mid := (x1 + x2) / 2
		se := svgEdge{Path: fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, mid, y1, mid, y2, x2, y2), Stroke: colour(e.worst), Width: 1, Tooltip: e.label}
		if e.worst != "" {
			se.Width = 2
			se.Tooltip += " (" + string(e.worst) + ")"
		}
		v.Edges = append(v.Edges, se)
	}
	v.Height = top + max(rows, 1)*rowStep + 40
	for i, s := range append(Severities(), "") {
		label := string(s)
		if s == "" {
			label = "no finding"
		}
		v.Legend = append(v.Legend, svgLegend{X: 20 + i*150, Label: label, Colour: colour(s)})
	}
	for _, f := range r.Findings {
		v.Findings = append(v.Findings, htmlFinding{Finding: f, Colour: colour(f.Severity), Where: f.Location()})
	}
	for _, f := range r.Accepted {
		v.Accepted = append(v.Accepted, htmlFinding{Finding: f, Colour: colour(f.Severity), Where: f.Location()})
	}
	var counts []string
	for _, s := range Severities() {
		n := 0
		for _, f := range r.Findings {
			if f.Severity == s {
				n++
			}
		}
		counts = append(counts, fmt.Sprintf("%d %s", n, s))
	}
	v.Counts = strings.Join(counts, ", ")
	return htmlPage.Execute(w, v)
}

// tint is a light fill for a box with findings.
func tint(s Severity) string {
	switch s {
	case SeverityError:
		return "#fde8ec"
	case SeveritySecurityWarning:
		return "#fff0e6"
	case SeverityWarning:
		return "#fdf6d8"
	}
	return "#e7f0fa"
}

var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>KMS key sharing findings: {{.Report.Directory}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #1f2933; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #d9dee3; padding: 6px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f1f3f5; }
td.sev { font-weight: 600; white-space: nowrap; }
code { font-size: 12px; word-break: break-all; }
table { table-layout: fixed; }
#findings th:nth-child(1) { width: 11%; } #findings th:nth-child(2) { width: 15%; } #findings th:nth-child(3) { width: 24%; }
#findings th:nth-child(4) { width: 16%; } #findings th:nth-child(5) { width: 34%; }
svg text { font-family: system-ui, sans-serif; }
.summary { color: #52606d; }
</style>
</head>
<body>
<h1>Who can use which key: {{.Report.Directory}}</h1>
<p class="summary">Accounts {{range $i, $a := .Report.Accounts}}{{if $i}}, {{end}}{{$a}}{{end}} in {{range $i, $r := .Report.Regions}}{{if $i}}, {{end}}{{$r}}{{end}}: {{len .Report.Keys}} keys, {{len .Report.Recipients}} recipient accounts{{if .Report.TrustFolder}}, trust zone {{.Report.TrustFolder}}{{end}}. Findings: {{.Counts}}; {{len .Report.Accepted}} accepted.</p>
<svg id="graph" xmlns="http://www.w3.org/2000/svg" style="max-width: 100%; height: auto" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="keys, the accounts they are shared with, and the folders of those accounts">
{{range .Columns}}<text x="{{.X}}" y="30" font-size="15" font-weight="700">{{.Title}}</text>
{{end}}{{range .Edges}}<path d="{{.Path}}" fill="none" stroke="{{.Stroke}}" stroke-width="{{.Width}}"><title>{{.Tooltip}}</title></path>
{{end}}{{range .Boxes}}<g class="node"><title>{{.Tooltip}}</title><rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" rx="6" fill="{{.Fill}}" stroke="{{.Stroke}}" stroke-width="{{.Width}}"/><text x="{{.X}}" y="{{.Y}}" dx="10" dy="19" font-size="13" font-weight="600">{{.Title}}</text><text x="{{.X}}" y="{{.Y}}" dx="10" dy="36" font-size="11" fill="#52606d">{{.Sub}}</text></g>
{{end}}</svg>
<svg xmlns="http://www.w3.org/2000/svg" width="760" height="28" role="img" aria-label="legend">
{{range .Legend}}<rect x="{{.X}}" y="6" width="14" height="14" fill="{{.Colour}}"/><text x="{{.X}}" y="18" dx="20" font-size="12">{{.Label}}</text>
{{end}}</svg>
<h2>Findings</h2>
{{if .Findings}}<table id="findings">
<tr><th>Severity</th><th>Code</th><th>Where</th><th>Principal</th><th>Finding and fix</th></tr>
{{range .Findings}}<tr><td class="sev" style="color: {{.Colour}}">{{.Severity}}</td><td><code>{{.Code}}</code><br><code>{{.ID}}</code></td><td><code>{{.Where}}</code></td><td><code>{{.Principal}}</code></td><td>{{.Message}}<br><b>Fix:</b> {{.Fix}}</td></tr>
{{end}}</table>{{else}}<p id="findings">No findings.</p>{{end}}
{{if .Accepted}}<h2>Accepted</h2>
<table id="accepted">
<tr><th>Severity</th><th>Code</th><th>Where</th><th>Principal</th><th>Reason</th></tr>
{{range .Accepted}}<tr><td class="sev" style="color: {{.Colour}}">{{.Severity}}</td><td><code>{{.Code}}</code></td><td><code>{{.Where}}</code></td><td><code>{{.Principal}}</code></td><td>{{.AcceptedBecause}}</td></tr>
{{end}}</table>{{end}}
</body>
</html>
`))
