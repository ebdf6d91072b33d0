"""Draws scaling.svg (deliveries/s and p99 against the per-room rate) from the JSON reports
scale-{1,5,10,15,18,20,50}.json that `conclave-load --json` wrote. Run from this folder."""
import json
import math

RATES = [1, 5, 10, 15, 18, 20, 50]
points = []
for rate in RATES:
    report = json.load(open(f"scale-{rate}.json"))
    points.append((rate, report["throughput"]["delivered_per_second"], report["latency_ms"]["p99"]))

W, H, L, R, T, B = 640, 360, 70, 70, 30, 50
top = max(p[1] for p in points) * 1.15
STEP = 10000 if top < 100000 else 20000


def x(rate):
    return L + math.log10(rate) / math.log10(RATES[-1]) * (W - L - R)


def y_deliveries(value):
    return H - B - value / top * (H - T - B)


def y_latency(ms):
    return H - B - (math.log10(max(ms, 0.1)) + 1) / (math.log10(100000) + 1) * (H - T - B)


svg = [
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
    f'<rect width="{W}" height="{H}" fill="white"/>',
    f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="14">Conclave scaling: 1,000 rooms × 4 members, SQLite, 2 cores shared with the load</text>',
    f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/>',
    f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>',
    f'<line x1="{W - R}" y1="{T}" x2="{W - R}" y2="{H - B}" stroke="black"/>',
    f'<text x="{W / 2}" y="{H - 10}" text-anchor="middle">messages/s per room (log scale)</text>',
]
svg += [f'<text x="{x(r):.0f}" y="{H - B + 18}" text-anchor="middle">{r}</text>' for r in RATES]
svg += [f'<text x="{L - 6}" y="{y_deliveries(v) + 4:.0f}" text-anchor="end" fill="#1f6feb">{v // 1000}k</text>' for v in range(0, int(top), STEP)]
svg += [f'<text x="{W - R + 6}" y="{y_latency(ms) + 4:.0f}" fill="#d1242f">{ms} ms</text>' for ms in [1, 10, 100, 1000, 10000]]
svg.append('<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="' + " ".join(f"{x(r):.1f},{y_deliveries(d):.1f}" for r, d, _ in points) + '"/>')
svg.append('<polyline fill="none" stroke="#d1242f" stroke-width="2" stroke-dasharray="5,3" points="' + " ".join(f"{x(r):.1f},{y_latency(l):.1f}" for r, _, l in points) + '"/>')
svg.append(f'<text x="{L + 8}" y="{T + 14}" fill="#1f6feb">— deliveries/s (left)</text>')
svg.append(f'<text x="{L + 8}" y="{T + 30}" fill="#d1242f">- - p99 latency (right, log)</text>')
svg.append("</svg>")
open("scaling.svg", "w").write("\n".join(svg))
