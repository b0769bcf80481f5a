//! Minimal inline-SVG charts for the HTML report: grouped bars (with optional
//! error bars), scatter with a fitted line, heatmap, and lines. No scripts, no
//! external fonts or images; text uses the viewer's sans-serif font.

use std::fmt::Write as _;

/// Colours of series (colour-blind friendly, Okabe-Ito).
const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

/// Escapes text for XML/HTML.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const W: f64 = 760.0;
const H: f64 = 400.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 120.0;

fn open(title: &str, w: f64, h: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\" font-family=\"sans-serif\" font-size=\"12\">\
<rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\
<text x=\"{x}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{t}</text>",
        x = w / 2.0,
        t = esc(title)
    )
}

fn y_axis(out: &mut String, top: f64, y_min: f64, y_max: f64, label: &str) {
    let plot_h = H - top - BOTTOM;
    for i in 0..=5 {
        let v = y_min + (y_max - y_min) * i as f64 / 5.0;
        let y = top + plot_h * (1.0 - i as f64 / 5.0);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#dddddd\"/>\
<text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{v}</text>",
            x2 = W - RIGHT,
            tx = LEFT - 6.0,
            ty = y + 4.0,
            v = fmt_tick(v)
        );
    }
    let _ = write!(
        out,
        "<text transform=\"translate(14 {cy}) rotate(-90)\" text-anchor=\"middle\">{l}</text>\
<line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{top}\" y2=\"{yb}\" stroke=\"#333333\"/>",
        cy = top + plot_h / 2.0,
        l = esc(label),
        yb = H - BOTTOM
    );
}

/// The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is >= `v`
/// (1 for non-positive input), so the five axis ticks are round numbers.
fn nice_ceiling(v: f64) -> f64 {
    if v.is_nan() || v <= 0.0 || v.is_infinite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|&c| c >= v)
        .unwrap_or(10.0 * p)
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 10.0 || (v.fract() == 0.0 && v.abs() >= 1.0) {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Width of a legend entry (text estimated at 7 px per character).
fn legend_entry_w(name: &str) -> f64 {
    24.0 + 7.0 * name.chars().count() as f64
}

/// Rows a legend of `names` needs across the plot width.
fn legend_rows(names: &[String]) -> usize {
    let mut rows = 1;
    let mut x = LEFT;
    for n in names {
        let w = legend_entry_w(n);
        if x + w > W - RIGHT && x > LEFT {
            rows += 1;
            x = LEFT;
        }
        x += w;
    }
    rows
}

/// Draws the legend under the title, wrapping across rows.
fn legend(out: &mut String, names: &[String]) {
    let mut x = LEFT;
    let mut y = 42.0;
    for (i, n) in names.iter().enumerate() {
        let w = legend_entry_w(n);
        if x + w > W - RIGHT && x > LEFT {
            x = LEFT;
            y += 16.0;
        }
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{ry:.1}\" width=\"10\" height=\"10\" fill=\"{c}\"/>\
<text x=\"{tx:.1}\" y=\"{y:.1}\">{n}</text>",
            ry = y - 9.0,
            c = PALETTE[i % PALETTE.len()],
            tx = x + 14.0,
            n = esc(n)
        );
        x += w;
    }
}

/// Grouped bars: one group per category, one bar per series; `errors` (same
/// shape as the values) draws ±error whiskers.
pub(crate) fn bar_chart(
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[(String, Vec<Option<f64>>)],
    errors: Option<&[Vec<Option<f64>>]>,
    y_max: Option<f64>,
) -> String {
    let mut out = open(title, W, H);
    let data_max = series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .copied()
        .fold(0.0_f64, f64::max);
    let err_max = errors
        .map(|e| {
            series
                .iter()
                .zip(e)
                .flat_map(|((_, v), ev)| {
                    v.iter()
                        .zip(ev)
                        .filter_map(|(a, b)| Some(a.as_ref()? + b.as_ref()?))
                })
                .fold(0.0_f64, f64::max)
        })
        .unwrap_or(0.0);
    let y_max = y_max.unwrap_or_else(|| nice_ceiling(data_max.max(err_max) * 1.05));
    let names: Vec<String> = series.iter().map(|(n, _)| n.clone()).collect();
    let top = if series.len() > 1 {
        legend(&mut out, &names);
        TOP + 16.0 * legend_rows(&names) as f64
    } else {
        TOP
    };
    y_axis(&mut out, top, 0.0, y_max, y_label);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - top - BOTTOM;
    let group_w = plot_w / categories.len().max(1) as f64;
    let bar_w = (group_w * 0.8) / series.len().max(1) as f64;
    let y_of = |v: f64| top + plot_h * (1.0 - (v / y_max).clamp(0.0, 1.0));
    for (g, cat) in categories.iter().enumerate() {
        let gx = LEFT + g as f64 * group_w + group_w * 0.1;
        for (s, (name, vals)) in series.iter().enumerate() {
            let Some(v) = vals.get(g).copied().flatten() else {
                continue;
            };
            let x = gx + s as f64 * bar_w;
            let y = y_of(v);
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{h:.1}\" fill=\"{c}\"><title>{t}: {v:.4}</title></rect>",
                bw = (bar_w - 1.0).max(1.0),
                h = (H - BOTTOM - y).max(0.0),
                c = PALETTE[s % PALETTE.len()],
                t = esc(&format!("{cat} / {name}"))
            );
            if let Some(e) = errors
                .and_then(|e| e.get(s))
                .and_then(|ev| ev.get(g).copied().flatten())
            {
                let cx = x + bar_w / 2.0;
                let _ = write!(
                    out,
                    "<line x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{a:.1}\" y2=\"{b:.1}\" stroke=\"#333333\"/>",
                    a = y_of(v + e),
                    b = y_of((v - e).max(0.0))
                );
            }
        }
        let lx = LEFT + (g as f64 + 0.5) * group_w;
        let _ = write!(
            out,
            "<text transform=\"translate({lx:.1} {ly}) rotate(-30)\" text-anchor=\"end\">{c}</text>",
            ly = H - BOTTOM + 14.0,
            c = esc(cat)
        );
    }
    out.push_str("</svg>");
    out
}

/// Scatter of `points` with the line `y = intercept + slope·x`.
pub(crate) fn scatter_with_line(
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[(f64, f64)],
    intercept: f64,
    slope: f64,
) -> String {
    let mut out = open(title, W, H);
    let (x_min, x_max) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let (y_min, y_max) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    let (x_min, x_max) = if x_max > x_min {
        (x_min, x_max)
    } else {
        (x_min - 1.0, x_min + 1.0)
    };
    let (y_min, y_max) = if y_max > y_min {
        (y_min, y_max)
    } else {
        (y_min - 1.0, y_min + 1.0)
    };
    y_axis(&mut out, TOP, y_min, y_max, y_label);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let px = |x: f64| LEFT + plot_w * (x - x_min) / (x_max - x_min);
    let py = |y: f64| TOP + plot_h * (1.0 - (y - y_min) / (y_max - y_min));
    for i in 0..=5 {
        let v = x_min + (x_max - x_min) * i as f64 / 5.0;
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{y}\" text-anchor=\"middle\">{v}</text>",
            x = px(v),
            y = H - BOTTOM + 16.0,
            v = fmt_tick(v)
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{yb}\" y2=\"{yb}\" stroke=\"#333333\"/>\
<text x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\">{l}</text>",
        x2 = W - RIGHT,
        yb = H - BOTTOM,
        cx = LEFT + plot_w / 2.0,
        ly = H - BOTTOM + 36.0,
        l = esc(x_label)
    );
    for &(x, y) in points {
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\" fill-opacity=\"0.7\"/>",
            px(x),
            py(y),
            PALETTE[0]
        );
    }
    // Fitted line clipped to the plot's y range.
    let (y0, y1) = (intercept + slope * x_min, intercept + slope * x_max);
    let _ = write!(
        out,
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"2\"/>",
        px(x_min),
        py(y0.clamp(y_min, y_max)),
        px(x_max),
        py(y1.clamp(y_min, y_max)),
        PALETTE[5]
    );
    out.push_str("</svg>");
    out
}

/// A correlation heatmap in [-1, 1] with values printed and `*` for p < 0.05,
/// `**` for p < 0.01.
pub(crate) fn heatmap(
    title: &str,
    labels: &[String],
    r: &[Vec<Option<f64>>],
    p: &[Vec<Option<f64>>],
) -> String {
    let n = labels.len().max(1);
    let cell = 70.0;
    let left = 150.0;
    let top = 50.0;
    let w = left + cell * n as f64 + 20.0;
    let h = top + cell * n as f64 + 110.0;
    let mut out = open(title, w, h);
    for i in 0..labels.len() {
        for j in 0..labels.len() {
            let x = left + j as f64 * cell;
            let y = top + i as f64 * cell;
            let Some(v) = r[i][j] else {
                // undefined (no spread): grey cell with a dash
                let _ = write!(
                    out,
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell}\" height=\"{cell}\" fill=\"#dddddd\" stroke=\"#ffffff\"/>\
<text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\">–</text>",
                    tx = x + cell / 2.0,
                    ty = y + cell / 2.0 + 4.0
                );
                continue;
            };
            let pv = p[i][j].unwrap_or(1.0);
            // blue for positive, red for negative, white at 0
            let t = v.clamp(-1.0, 1.0).abs();
            let (cr, cg, cb) = if v >= 0.0 {
                (0.0, 114.0, 178.0)
            } else {
                (213.0, 94.0, 0.0)
            };
            let mix = |c: f64| (255.0 + (c - 255.0) * t).round() as u8;
            let stars = if i == j {
                ""
            } else if pv < 0.01 {
                "**"
            } else if pv < 0.05 {
                "*"
            } else {
                ""
            };
            let text_col = if t > 0.6 { "#ffffff" } else { "#000000" };
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell}\" height=\"{cell}\" fill=\"rgb({},{},{})\" stroke=\"#ffffff\"/>\
<text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" fill=\"{text_col}\">{v:.2}{stars}</text>",
                mix(cr),
                mix(cg),
                mix(cb),
                tx = x + cell / 2.0,
                ty = y + cell / 2.0 + 4.0
            );
        }
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{y:.1}\" text-anchor=\"end\">{l}</text>\
<text transform=\"translate({cx:.1} {by:.1}) rotate(-30)\" text-anchor=\"end\">{l}</text>",
            x = left - 6.0,
            y = top + (i as f64 + 0.5) * cell + 4.0,
            cx = left + (i as f64 + 0.5) * cell,
            by = top + cell * n as f64 + 14.0,
            l = esc(&labels[i])
        );
    }
    out.push_str("</svg>");
    out
}

/// Lines over years, one per series.
pub(crate) fn line_chart(
    title: &str,
    y_label: &str,
    xs: &[i32],
    series: &[(String, Vec<Option<f64>>)],
) -> String {
    let mut out = open(title, W, H);
    let vals: Vec<f64> = series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .copied()
        .collect();
    let y_max = nice_ceiling(vals.iter().copied().fold(0.0_f64, f64::max) * 1.1);
    let names: Vec<String> = series.iter().map(|(n, _)| n.clone()).collect();
    legend(&mut out, &names);
    let top = TOP + 16.0 * legend_rows(&names) as f64;
    y_axis(&mut out, top, 0.0, y_max, y_label);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - top - BOTTOM;
    let n = xs.len();
    let px = |i: usize| {
        if n <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + 30.0 + (plot_w - 60.0) * i as f64 / (n - 1) as f64
        }
    };
    let py = |v: f64| top + plot_h * (1.0 - v / y_max);
    for (i, x) in xs.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{x}</text>",
            px(i),
            H - BOTTOM + 16.0
        );
    }
    for (s, (name, v)) in series.iter().enumerate() {
        let pts: Vec<String> = v
            .iter()
            .enumerate()
            .filter_map(|(i, y)| y.map(|y| format!("{:.1},{:.1}", px(i), py(y))))
            .collect();
        let c = PALETTE[s % PALETTE.len()];
        let _ = write!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"><title>{}</title></polyline>",
            pts.join(" "),
            esc(name)
        );
        for p in &pts {
            let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(out, "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{c}\"/>");
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_ceiling(64.9), 100.0);
        assert_eq!(nice_ceiling(0.17), 0.2);
        assert_eq!(nice_ceiling(0.22), 0.25);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let svg = bar_chart(
            "<t>",
            "y",
            &["x&y".into()],
            &[("s".into(), vec![Some(1.0)])],
            None,
            None,
        );
        assert!(svg.contains("&lt;t&gt;") && svg.contains("x&amp;y") && !svg.contains("<t>"));
    }
}
