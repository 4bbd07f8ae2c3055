"""Charts drawn on the server as inline SVG (no chart library, nothing from the internet)."""

from __future__ import annotations

from markupsafe import Markup, escape

FONT = "font-family=\"'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif\""
FUNNEL_COLOURS = ("#1f4e79", "#2e6da4", "#3d85c6", "#6fa8dc", "#9fc5e8", "#b6d7a8", "#93c47d")
BUCKET_COLOURS = {"passed": "#38761d", "open": "#e69138", "closed": "#999999"}


def funnel_svg(stages: list[tuple[str, int]], title: str, width: int = 560) -> Markup:
    """One centred bar per stage, its width proportional to the count (漏斗图)."""
    row, label_w = 34, 130
    height = row * len(stages) + 10
    top = max((count for _, count in stages), default=0) or 1
    span = width - label_w - 60
    parts = [f'<svg class="chart funnel" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" {FONT} font-size="13">',
             f"<title>{escape(title)}</title>"]
    for i, (label, count) in enumerate(stages):
        y = 5 + i * row
        w = max(2.0, span * count / top)
        x = label_w + (span - w) / 2
        colour = FUNNEL_COLOURS[i % len(FUNNEL_COLOURS)]
        parts.append(f'<text x="{label_w - 8}" y="{y + 20}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 8}" rx="3" fill="{colour}">'
                     f"<title>{escape(label)}：{count}</title></rect>")
        parts.append(f'<text x="{label_w + span + 8}" y="{y + 20}" class="count">{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bars_svg(rows: list[dict], buckets: tuple[tuple[str, str], ...], title: str,
                     width: int = 560) -> Markup:
    """Horizontal stacked bars, one per jurisdiction, with a legend (按辖区柱状图)."""
    row, label_w, legend_h = 26, 110, 26
    height = legend_h + row * max(1, len(rows)) + 8
    top = max((sum(r[key] for key, _ in buckets) for r in rows), default=0) or 1
    span = width - label_w - 60
    parts = [f'<svg class="chart bars" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">',
             f"<title>{escape(title)}</title>"]
    x = label_w
    for key, label in buckets:
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{BUCKET_COLOURS[key]}"/>')
        parts.append(f'<text x="{x + 16}" y="16">{escape(label)}</text>')
        x += 16 + 13 * len(label) + 18
    if not rows:
        parts.append(f'<text x="{label_w}" y="{legend_h + 18}">（暂无数据）</text>')
    for i, r in enumerate(rows):
        y = legend_h + i * row
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{escape(r["name"])}</text>')
        x = float(label_w)
        for key, label in buckets:
            w = span * r[key] / top
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
                             f'fill="{BUCKET_COLOURS[key]}"><title>{escape(r["name"])} {escape(label)}：{r[key]}</title></rect>')
            x += w
        total = sum(r[key] for key, _ in buckets)
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 16}" class="count">{total}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
