#!/usr/bin/env python3
"""Draw the operator's Grafana dashboard as a PNG, from scraped metrics.

The picture in docs/metrics.md is made with it. Two steps:

    # 1. scrape a manager's /metrics endpoint a number of times (plain http:
    #    run bin/manager with --metrics-secure=false --metrics-bind-address=...)
    python3 hack/render-dashboard.py scrape --url http://127.0.0.1:18443/metrics \\
        --out /tmp/scrapes --count 24 --interval 10

    # 2. draw every panel of the dashboard JSON in its grid position, each
    #    query evaluated at every scrape
    python3 hack/render-dashboard.py render --scrapes /tmp/scrapes \\
        --dashboard charts/tenant-operator/dashboards/tenant-operator.json \\
        --out docs/images/dashboard.png

Rendering needs matplotlib (Debian: apt-get install python3-matplotlib); the
tests and CI do not use this script. The queries are evaluated by a small
PromQL evaluator below that knows what the dashboard uses (selectors with
label matchers, sum/max/min/count/avg by, rate and increase, arithmetic and
comparisons between vectors with equal labels, `or`, vector(),
histogram_quantile); it stops with an error on anything else, so a panel
whose query it cannot evaluate is noticed, not drawn empty. Grafana's
variables are All ($namespace, $tenant: .*), and $__rate_interval is
--rate-interval.
"""

import argparse
import json
import math
import os
import re
import sys
import time
import urllib.request


# ---------------------------------------------------------------- scraping

def scrape(args):
    os.makedirs(args.out, exist_ok=True)
    for i in range(args.count):
        started = time.time()
        with urllib.request.urlopen(args.url, timeout=10) as r:
            body = r.read().decode()
        name = os.path.join(args.out, "%d.prom" % int(started * 1000))
        with open(name, "w") as f:
            f.write(body)
        print("scrape %d/%d: %s (%d bytes)" % (i + 1, args.count, name, len(body)), flush=True)
        if i + 1 < args.count:
            time.sleep(max(0.0, args.interval - (time.time() - started)))


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def parse_exposition(text):
    """Samples of the Prometheus text format: [(labels with __name__, value)]."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("cannot parse sample line: %r" % line)
        labels = {"__name__": m.group(1)}
        body = m.group(3) or ""
        pos = 0
        while pos < len(body):
            lm = LABEL.match(body, pos)
            if not lm:
                raise ValueError("cannot parse labels: %r" % body)
            labels[lm.group(1)] = bytes(lm.group(2), "utf-8").decode("unicode_escape")
            pos = lm.end()
        v = m.group(4)
        value = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}.get(v)
        out.append((labels, float(v) if value is None else value))
    return out


def load_scrapes(directory):
    scrapes = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".prom"):
            with open(os.path.join(directory, name)) as f:
                scrapes.append((int(name[:-5]) / 1000.0, parse_exposition(f.read())))
    if len(scrapes) < 2:
        sys.exit("render: need at least two scrapes in %s" % directory)
    return scrapes


# ---------------------------------------------------------------- PromQL

TOKEN = re.compile(r'''
    (?P<ws>\s+)
  | (?P<num>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![0-9a-zA-Z_]))
  | (?P<dur>\[[^\]]+\])
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<op>=~|!~|!=|>=|<=|==|[-+*/(){},=<>])
  | (?P<id>[a-zA-Z_:][a-zA-Z0-9_:]*)
''', re.X)

AGGREGATIONS = {"sum", "max", "min", "count", "avg"}
KEYWORDS = {"by", "without", "or", "and", "unless", "on", "ignoring", "bool", "offset"}
PRECEDENCE = [("or",), ("and", "unless"), ("==", "!=", ">", "<", ">=", "<="), ("+", "-"), ("*", "/")]


def tokenize(expr):
    out, pos = [], 0
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise SyntaxError("cannot read %r at %r" % (expr, expr[pos:pos + 20]))
        pos = m.end()
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(kind)))
    return out


def duration(text):
    total = 0.0
    for n, unit in re.findall(r'(\d+)(ms|s|m|h|d|w)', text):
        total += int(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    if total == 0:
        raise SyntaxError("bad duration %r" % text)
    return total


class Parser:
    def __init__(self, expr):
        self.toks, self.i = tokenize(expr), 0
        self.expr = expr

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise SyntaxError("in %r: expected %r, got %r" % (self.expr, value, tok[1]))
        self.i += 1
        return tok

    def parse(self):
        node = self.binary(0)
        if self.peek()[0] is not None:
            raise SyntaxError("in %r: unexpected %r" % (self.expr, self.peek()[1]))
        return node

    def binary(self, level):
        if level == len(PRECEDENCE):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[1] in PRECEDENCE[level]:
            op = self.take()[1]
            if self.peek()[1] in ("on", "ignoring", "bool"):
                raise SyntaxError("in %r: vector matching modifiers are not supported" % self.expr)
            right = self.binary(level + 1)
            left = ("binop", op, left, right)
        return left

    def labels_list(self):
        self.take("(")
        names = []
        while self.peek()[1] != ")":
            names.append(self.take()[1])
            if self.peek()[1] == ",":
                self.take(",")
        self.take(")")
        return names

    def unary(self):
        kind, value = self.peek()
        if value == "(":
            self.take("(")
            node = self.binary(0)
            self.take(")")
            return node
        if kind == "num":
            self.take()
            return ("num", float(value))
        if kind != "id":
            raise SyntaxError("in %r: unexpected %r" % (self.expr, value))
        if value in AGGREGATIONS:
            self.take()
            grouping = None
            if self.peek()[1] in ("by", "without"):
                if self.take()[1] == "without":
                    raise SyntaxError("without is not supported")
                grouping = self.labels_list()
            self.take("(")
            inner = self.binary(0)
            self.take(")")
            if self.peek()[1] in ("by", "without"):
                if self.take()[1] == "without":
                    raise SyntaxError("without is not supported")
                grouping = self.labels_list()
            return ("agg", value, grouping, inner)
        if self.peek(1)[1] == "(":
            self.take()
            self.take("(")
            args = []
            while self.peek()[1] != ")":
                if self.peek()[0] == "id" and self.peek(1)[0] == "dur" or (self.peek()[0] == "id" and self.peek(1)[1] == "{"):
                    args.append(self.selector())
                else:
                    args.append(self.binary(0))
                if self.peek()[1] == ",":
                    self.take(",")
            self.take(")")
            return ("call", value, args)
        return self.selector()

    def selector(self):
        name = self.take()[1]
        matchers = [("__name__", "=", name)]
        if self.peek()[1] == "{":
            self.take("{")
            while self.peek()[1] != "}":
                label = self.take()[1]
                op = self.take()[1]
                val = json.loads(self.take()[1])
                matchers.append((label, op, val))
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("}")
        rng = None
        if self.peek()[0] == "dur":
            rng = duration(self.take()[1][1:-1])
        return ("sel", matchers, rng)


def key(labels):
    return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__"))


def matches(labels, matchers):
    for label, op, val in matchers:
        have = labels.get(label, "")
        if op == "=" and have != val or op == "!=" and have == val:
            return False
        if op == "=~" and not re.fullmatch(val, have) or op == "!~" and re.fullmatch(val, have):
            return False
    return True


class Evaluator:
    def __init__(self, scrapes):
        self.scrapes = scrapes

    def at(self, node, idx):
        """Instant vector {labels key: (labels, value)} or a scalar float at scrape idx."""
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "sel":
            if node[2] is not None:
                raise SyntaxError("a range vector outside rate()")
            return {key(l): (l, v) for l, v in self.scrapes[idx][1] if matches(l, node[1])}
        if kind == "call":
            return self.call(node[1], node[2], idx)
        if kind == "agg":
            return self.aggregate(node[1], node[2], self.at(node[3], idx))
        if kind == "binop":
            return self.binop(node[1], self.at(node[2], idx), self.at(node[3], idx))
        raise SyntaxError("cannot evaluate %r" % (node,))

    def call(self, name, args, idx):
        if name in ("rate", "increase"):
            sel = args[0]
            if sel[0] != "sel" or sel[2] is None:
                raise SyntaxError("%s needs a range selector" % name)
            now = self.scrapes[idx][0]
            window = [(t, s) for t, s in self.scrapes[:idx + 1] if t >= now - sel[2]]
            if len(window) < 2:
                return {}
            series = {}
            for t, samples in window:
                for l, v in samples:
                    if matches(l, sel[1]):
                        series.setdefault(key(l), (l, []))[1].append((t, v))
            out = {}
            for k, (l, points) in series.items():
                if len(points) < 2:
                    continue
                inc = 0.0
                for (_, a), (_, b) in zip(points, points[1:]):
                    inc += b - a if b >= a else b  # a counter reset starts again from 0
                span = points[-1][0] - points[0][0]
                labels = {x: y for x, y in l.items() if x != "__name__"}
                out[k] = (labels, inc / span if name == "rate" else inc)
            return out
        if name == "vector":
            return {(): ({}, self.at(args[0], idx))}
        if name == "histogram_quantile":
            return self.quantile(self.at(args[0], idx), self.at(args[1], idx))
        raise SyntaxError("function %s is not supported" % name)

    @staticmethod
    def aggregate(op, grouping, vec):
        groups = {}
        for l, v in vec.values():
            g = {k: l[k] for k in (grouping or []) if k in l}
            groups.setdefault(key(g), (g, []))[1].append(v)
        fn = {"sum": sum, "max": max, "min": min, "count": len, "avg": lambda xs: sum(xs) / len(xs)}[op]
        return {k: (g, float(fn(vs))) for k, (g, vs) in groups.items()}

    @staticmethod
    def binop(op, left, right):
        arith = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
                 "/": lambda a, b: a / b if b else (math.nan if a == 0 else math.copysign(math.inf, a))}
        cmp = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b,
               "<=": lambda a, b: a <= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
        if op == "or":
            out = dict(left)
            for k, s in right.items():
                if k not in out:
                    out[k] = s
            return out
        lscalar, rscalar = not isinstance(left, dict), not isinstance(right, dict)
        if lscalar and rscalar:
            return arith[op](left, right)
        pairs = []
        if lscalar:
            pairs = [(k, l, left, v) for k, (l, v) in right.items()]
        elif rscalar:
            pairs = [(k, l, v, right) for k, (l, v) in left.items()]
        else:
            pairs = [(k, l, v, right[k][1]) for k, (l, v) in left.items() if k in right]
        out = {}
        for k, l, a, b in pairs:
            labels = {x: y for x, y in l.items() if x != "__name__"}
            if op in cmp:
                if cmp[op](a, b):
                    out[k] = (labels, a)
            elif op in arith:
                out[k] = (labels, arith[op](a, b))
            else:
                raise SyntaxError("operator %s is not supported" % op)
        return out

    @staticmethod
    def quantile(q, vec):
        groups = {}
        for l, v in vec.values():
            g = {k: x for k, x in l.items() if k != "le"}
            groups.setdefault(key(g), (g, []))[1].append((float(l["le"]), v))
        out = {}
        for k, (g, buckets) in groups.items():
            buckets.sort()
            total = buckets[-1][1]
            if total <= 0:
                continue
            rank, prev_le, prev_count = q * total, 0.0, 0.0
            for le, count in buckets:
                if count >= rank:
                    if math.isinf(le):
                        value = prev_le
                    else:
                        value = prev_le + (le - prev_le) * ((rank - prev_count) / (count - prev_count) if count > prev_count else 1)
                    out[k] = (g, value)
                    break
                prev_le, prev_count = le, count
        return out


def substitute(expr, rate_interval):
    expr = expr.replace("$__rate_interval", rate_interval).replace("${__rate_interval}", rate_interval)
    return re.sub(r'\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?', ".*", expr)


def legend(fmt, labels):
    if not fmt:
        return ", ".join("%s=%s" % kv for kv in sorted(labels.items())) or "value"
    text = re.sub(r'\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}', lambda m: labels.get(m.group(1), ""), fmt)
    return re.sub(r'\s+', " ", text).strip()


# ---------------------------------------------------------------- drawing

def unit_formatter(unit):
    from matplotlib.ticker import FuncFormatter

    def human(v, _=None):
        for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(v) >= div:
                return "%.3g%s" % (v / div, suffix)
        return "%.3g" % v

    def binary(v):
        for div, suffix in ((2 ** 40, "TiB"), (2 ** 30, "GiB"), (2 ** 20, "MiB"), (2 ** 10, "KiB")):
            if abs(v) >= div:
                return "%.3g %s" % (v / div, suffix)
        return "%.3g B" % v

    return FuncFormatter({
        "percentunit": lambda v, _: "%.0f%%" % (v * 100),
        "s": lambda v, _: "%.3gms" % (v * 1000) if 0 < abs(v) < 1 else "%.3gs" % v,
        "reqps": lambda v, _: human(v) + "/s",
        "bytes": lambda v, _: binary(v),
        "ops": lambda v, _: human(v) + "/s",
    }.get(unit, human))


def render(args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(args.dashboard) as f:
        dash = json.load(f)
    scrapes = load_scrapes(args.scrapes)
    ev = Evaluator(scrapes)
    t0 = scrapes[0][0]
    times = [t - t0 for t, _ in scrapes]

    panels = [p for p in dash["panels"]]
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    row_h = 0.42  # inches per grid unit of height
    fig_w = 16.0
    fig_h = bottom * row_h + 0.8
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=args.dpi, facecolor="#111217")
    fig.text(0.01, 1 - 0.35 / fig_h, dash.get("title", "dashboard"), color="#d8d9da", fontsize=15, weight="bold", va="center")
    fig.text(0.99, 1 - 0.35 / fig_h, "rendered from %d scrapes of the demo over %.0f s" % (len(scrapes), times[-1]),
             color="#8e8e8e", fontsize=9, ha="right", va="center")
    top = 0.7  # inches used by the title

    def box(g, left=0.65, bottom=0.3, title=0.3, right=0.12):
        """The axes of a panel at grid position g, in figure fractions, with
        room (inches) for tick labels and the title inside its cell."""
        x0 = g["x"] / 24.0 * fig_w + left
        x1 = (g["x"] + g["w"]) / 24.0 * fig_w - right
        y_top = top + g["y"] * row_h + title
        y_bottom = top + (g["y"] + g["h"]) * row_h - bottom
        return [x0 / fig_w, 1 - y_bottom / fig_h, (x1 - x0) / fig_w, (y_bottom - y_top) / fig_h]

    for p in panels:
        g = p["gridPos"]
        if p["type"] == "row":
            y = 1 - (top + g["y"] * row_h + 0.5 * row_h) / fig_h
            fig.text(0.005, y, p["title"], color="#d8d9da", fontsize=12, weight="bold", va="center")
            continue
        rect = box(g, left={"bargauge": 1.7, "stat": 0.12}.get(p["type"], 0.65), bottom=0.12 if p["type"] == "stat" else 0.3)
        ax = fig.add_axes(rect, facecolor="#181b1f")
        for s in ax.spines.values():
            s.set_color("#2c3235")
        ax.tick_params(colors="#8e8e8e", labelsize=7)
        ax.set_title(p["title"], color="#d8d9da", fontsize=9.5, loc="left", pad=4)
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        series = {}
        for tg in p.get("targets", []):
            node = Parser(substitute(tg["expr"], args.rate_interval)).parse()
            for i in range(len(scrapes)):
                vec = ev.at(node, i)
                if not isinstance(vec, dict):
                    vec = {(): ({}, vec)}
                for l, v in vec.values():
                    name = legend(tg.get("legendFormat", ""), l)
                    series.setdefault((tg["refId"], name), [None] * len(scrapes))[i] = v
        if p["type"] == "stat":
            ax.set_xticks([])
            ax.set_yticks([])
            last = [vals[-1] for vals in series.values() if vals[-1] is not None]
            value = sum(last) if last else 0
            color = "#73bf69" if value == 0 else "#f2495c"
            ax.text(0.5, 0.45, "%g" % value, color=color, fontsize=30, weight="bold", ha="center", va="center", transform=ax.transAxes)
            continue
        if p["type"] == "bargauge":
            items = sorted(((n, vals[-1]) for (_, n), vals in series.items() if vals[-1]), key=lambda x: x[0], reverse=True)
            colors = ["#73bf69" if n.endswith("True") else "#f2495c" if n.endswith("False") else "#fade2a" for n, _ in items]
            ax.barh([n for n, _ in items], [v for _, v in items], color=colors, height=0.7)
            ax.tick_params(axis="y", labelsize=6.5)
            ax.xaxis.set_major_formatter(unit_formatter(unit))
            continue
        # A line's colour follows what it is about ("acme workstations"), so
        # an item's usage and its quotas share one; quotas are dashed.
        palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        colors = {}
        for (_, name), vals in sorted(series.items(), key=lambda kv: kv[0][1]):
            ok = [(t, v) for t, v in zip(times, vals) if v is not None and not math.isnan(v) and not math.isinf(v)]
            if not ok:
                continue
            subject = re.sub(r" (usage|soft quota|hard quota)$", "", name)
            color = colors.setdefault(subject, palette[len(colors) % len(palette)])
            style = "--" if name.endswith("soft quota") else ":" if name.endswith("hard quota") else "-"
            ax.plot([t for t, _ in ok], [v for _, v in ok], style, color=color, linewidth=1.4, label=name)
        for step in p.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", []):
            if step.get("value") is not None and step.get("color") == "red":
                ax.axhline(step["value"], color="#f2495c", linewidth=0.8, linestyle=":")
        ax.yaxis.set_major_formatter(unit_formatter(unit))
        ax.set_xlim(0, times[-1])
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: "%d:%02d" % (v // 60, v % 60)))
        ax.grid(color="#2c3235", linewidth=0.5)
        if series:
            leg = ax.legend(fontsize=6, loc="upper left", framealpha=0.6, facecolor="#181b1f", edgecolor="#2c3235",
                            ncol=2 if len(series) > 6 else 1)
            for text in leg.get_texts():
                text.set_color("#d8d9da")
        else:
            ax.text(0.5, 0.5, "No data", color="#8e8e8e", ha="center", va="center", transform=ax.transAxes)
    fig.savefig(args.out, facecolor=fig.get_facecolor())
    print("render: wrote %s (%d bytes)" % (args.out, os.path.getsize(args.out)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scrape", help="scrape a metrics endpoint a number of times")
    s.add_argument("--url", required=True)
    s.add_argument("--out", required=True, help="directory for the scrapes (one <unix ms>.prom each)")
    s.add_argument("--count", type=int, default=24)
    s.add_argument("--interval", type=float, default=10.0, help="seconds between scrapes")
    r = sub.add_parser("render", help="draw the dashboard from scrapes")
    r.add_argument("--scrapes", required=True)
    r.add_argument("--dashboard", default="charts/tenant-operator/dashboards/tenant-operator.json")
    r.add_argument("--out", default="docs/images/dashboard.png")
    r.add_argument("--rate-interval", default="1m", help="what $__rate_interval stands for")
    r.add_argument("--dpi", type=int, default=80)
    args = ap.parse_args()
    scrape(args) if args.cmd == "scrape" else render(args)


if __name__ == "__main__":
    main()
