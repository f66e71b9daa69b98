package main

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"

	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// svg draws the idle request rate of each mode against the number of
// tenants, with R and the watch mode's goal as horizontal lines. Written by
// hand: one figure does not need a plotting library.
func (rs *results) svg() string {
	series := map[string][]idlePoint{}
	for _, m := range rs.modes {
		pts := append([]idlePoint(nil), rs.res[m].points...)
		sort.Slice(pts, func(i, j int) bool { return pts[i].tenants < pts[j].tenants })
		series[m] = pts
	}
	var estimate func(float64) float64
	if rs.res[modePoll] != nil {
		estimate = func(tenants float64) float64 { return pollSteadyRate(tenants, rs.cfg) }
	}
	return plot(series, rs.modes, rs.cfg.rate, 1, rs.cfg.tenants, estimate)
}

// pollSteadyRate estimates the poll mode's idle rate once its reads are
// spread out: every object reads itself once per 10–11 minutes (a tenant
// with one GET, an administrator with two: the user and its roles, a quota
// with two: its offering items and their usages), at most R.
func pollSteadyRate(tenants float64, cfg config) float64 {
	reads := tenants + 4*float64(cfg.customers)
	return math.Min(cfg.rate, reads/(10.5*60))
}

var modeColors = map[string]string{modePoll: "#d95f02", modeWatch: "#1b7f9e"}

func plot(series map[string][]idlePoint, modes []string, budget, goal float64, maxTenants int, estimate func(float64) float64) string {
	const (
		width, height            = 760, 460
		left, right, top, bottom = 70, 150, 70, 60
	)
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	yMax := budget
	for _, pts := range series {
		for _, p := range pts {
			if !math.IsNaN(p.rate) {
				yMax = math.Max(yMax, p.rate)
			}
		}
	}
	yStep := niceStep(yMax * 1.1 / 5)
	yTop := math.Ceil(yMax*1.1/yStep) * yStep
	xStep := niceStep(float64(maxTenants) / 4)
	xTop := math.Ceil(float64(maxTenants)/xStep) * xStep
	x := func(v float64) float64 { return float64(left) + v/xTop*pw }
	y := func(v float64) float64 { return float64(top) + ph - v/yTop*ph }

	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&sb, `<text x="%d" y="24" font-size="15" font-weight="bold">Idle requests/s to the account server, per mode</text>`+"\n", left)
	// Grid and axes.
	for v := 0.0; v <= yTop+yStep/2; v += yStep {
		fmt.Fprintf(&sb, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e6e6e6"/>`+"\n", left, y(v), float64(left)+pw, y(v))
		fmt.Fprintf(&sb, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, trimFloat(v))
	}
	for v := 0.0; v <= xTop+xStep/2; v += xStep {
		fmt.Fprintf(&sb, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#e6e6e6"/>`+"\n", x(v), top, x(v), float64(top)+ph)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x(v), float64(top)+ph+18, harness.FmtInt(int(v)))
	}
	fmt.Fprintf(&sb, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, float64(top)+ph, float64(left)+pw, float64(top)+ph)
	fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%.1f" stroke="black"/>`+"\n", left, top, left, float64(top)+ph)
	fmt.Fprintf(&sb, `<text x="%.1f" y="%d" text-anchor="middle">Ready tenants per mode</text>`+"\n", float64(left)+pw/2, height-14)
	fmt.Fprintf(&sb, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">requests/s (client id, idle window)</text>`+"\n", float64(top)+ph/2)
	// Reference lines.
	ref := func(v float64, dash, label string, inside bool) {
		if v > yTop {
			return
		}
		fmt.Fprintf(&sb, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555" stroke-dasharray="%s"/>`+"\n", left, y(v), float64(left)+pw, y(v), dash)
		if inside {
			// Near the axis the right margin is where the points' labels go.
			fmt.Fprintf(&sb, `<text x="%d" y="%.1f" fill="#555">%s</text>`+"\n", left+6, y(v)-4, html.EscapeString(label))
			return
		}
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" fill="#555">%s</text>`+"\n", float64(left)+pw+6, y(v)+4, html.EscapeString(label))
	}
	ref(budget, "6 4", fmt.Sprintf("budget R = %s/s", trimFloat(budget)), false)
	ref(goal, "2 3", fmt.Sprintf("goal (watch) ≤ %s/s", trimFloat(goal)), true)
	// The poll mode's estimated steady state, for the windows that came
	// before its reads spread out.
	if estimate != nil {
		var coords []string
		for i := 0; i <= 50; i++ {
			v := xTop * float64(i) / 50
			coords = append(coords, fmt.Sprintf("%.1f,%.1f", x(v), y(math.Min(estimate(v), yTop))))
		}
		fmt.Fprintf(&sb, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="5 4" opacity="0.7"/>`+"\n", strings.Join(coords, " "), modeColors[modePoll])
		lx := float64(left + 150*len(modes))
		fmt.Fprintf(&sb, `<line x1="%.1f" y1="46" x2="%.1f" y2="46" stroke="%s" stroke-width="1.5" stroke-dasharray="5 4"/>`+"\n", lx, lx+22, modeColors[modePoll])
		fmt.Fprintf(&sb, `<text x="%.1f" y="50">poll once its reads are spread out (estimate)</text>`+"\n", lx+28)
	}
	// Series.
	for i, m := range modes {
		pts := series[m]
		color := modeColors[m]
		if color == "" {
			color = "#333"
		}
		var coords []string
		for _, p := range pts {
			if math.IsNaN(p.rate) {
				continue
			}
			coords = append(coords, fmt.Sprintf("%.1f,%.1f", x(float64(p.tenants)), y(p.rate)))
		}
		if len(coords) > 1 {
			fmt.Fprintf(&sb, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"/>`+"\n", strings.Join(coords, " "), color)
		}
		for j, p := range pts {
			if math.IsNaN(p.rate) {
				continue
			}
			fmt.Fprintf(&sb, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s: %s tenants, %s requests/s</title></circle>`+"\n",
				x(float64(p.tenants)), y(p.rate), color, m, harness.FmtInt(p.tenants), fmtRate(p.rate))
			// The first mode's values go left of their points, the others'
			// right (left at the last point), so that equal rates do not
			// print over each other.
			anchor, dx := "end", -6.0
			if i > 0 && j < len(pts)-1 {
				anchor, dx = "start", 6
			}
			fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" fill="%s" text-anchor="%s">%s</text>`+"\n", x(float64(p.tenants))+dx, y(p.rate)-8, color, anchor, fmtRate(p.rate))
		}
		lx := float64(left + 150*i)
		fmt.Fprintf(&sb, `<line x1="%.1f" y1="46" x2="%.1f" y2="46" stroke="%s" stroke-width="2.5"/>`+"\n", lx, lx+22, color)
		fmt.Fprintf(&sb, `<text x="%.1f" y="50">%s</text>`+"\n", lx+28, html.EscapeString(modeTitle(m)))
	}
	sb.WriteString("</svg>\n")
	return sb.String()
}

// niceStep rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
