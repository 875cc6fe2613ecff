//! Charts drawn on the server as SVG (no chart library, no JavaScript): bars and a line, with
//! axes, tick labels, units, a value label on each bar or point, a tooltip (`<title>`) on each,
//! and the same numbers as a table for screen readers and anyone who prefers one. The geometry
//! is computed here; `templates/dora/chart.html` writes it out (and escapes every label).

/// The drawing's size in SVG units (it scales to its container).
pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 260.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 44.0;
/// At most this many x-axis labels are written; the others are in tooltips and the table.
const MAX_X_LABELS: usize = 12;

/// One value of a chart: its label on the x axis and its value (`None`: no data, N/A).
#[derive(Debug, Clone)]
pub struct Point {
    pub label: String,
    /// The label in the tooltip and the table (longer than the axis label).
    pub long_label: String,
    pub value: Option<f64>,
    /// An extra note for the tooltip and the table (e.g. "2 of 7 deployments failed").
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bars,
    Line,
}

/// A bar, or a point of the line, ready to draw.
#[derive(Debug, Clone)]
pub struct Mark {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The centre, for labels and dots.
    pub cx: f64,
    pub value_text: String,
    pub tooltip: String,
    pub has_value: bool,
}

#[derive(Debug, Clone)]
pub struct Tick {
    pub y: f64,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct XLabel {
    pub x: f64,
    pub text: String,
}

/// A chart ready for the template.
#[derive(Debug, Clone)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// The y axis' unit, e.g. "deployments" or "hours".
    pub unit: String,
    /// One sentence saying what the chart shows (the SVG's description).
    pub summary: String,
    pub bars: bool,
    pub marks: Vec<Mark>,
    /// The line through the points with values (`M x y L x y ...`), for line charts.
    pub path: String,
    pub ticks: Vec<Tick>,
    pub x_labels: Vec<XLabel>,
    /// The data table: (label, value with its unit, note).
    pub rows: Vec<(String, String, String)>,
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right_edge: f64,
    pub baseline: f64,
    pub top: f64,
    pub empty: bool,
}

/// A "nice" step for about four intervals up to `max`: 1, 2, 2.5 or 5 times a power of ten.
fn nice_step(max: f64) -> f64 {
    let rough = (max / 4.0).max(f64::MIN_POSITIVE);
    let power = 10f64.powf(rough.log10().floor());
    let scaled = rough / power;
    let nice = if scaled <= 1.0 {
        1.0
    } else if scaled <= 2.0 {
        2.0
    } else if scaled <= 2.5 {
        2.5
    } else if scaled <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// A number for a label: whole numbers without decimals, others with at most `decimals`.
pub fn number(value: f64, decimals: usize) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.decimals$}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

impl Chart {
    /// Lays `points` out as bars or a line, with `unit` on the y axis.
    pub fn new(
        id: &str,
        title: &str,
        unit: &str,
        summary: String,
        kind: Kind,
        points: &[Point],
        decimals: usize,
    ) -> Chart {
        let plot_width = WIDTH - LEFT - RIGHT;
        let baseline = HEIGHT - BOTTOM;
        let plot_height = baseline - TOP;
        let max_value = points
            .iter()
            .filter_map(|p| p.value)
            .fold(0.0_f64, f64::max);
        let step = nice_step(if max_value > 0.0 { max_value } else { 1.0 });
        let top_value = (max_value / step).ceil().max(1.0) * step;
        let scale = |v: f64| baseline - v / top_value * plot_height;
        let ticks = (0..)
            .map(|i| f64::from(i) * step)
            .take_while(|v| *v <= top_value + step * 1e-6)
            .map(|v| Tick {
                y: scale(v),
                text: number(v, 2),
            })
            .collect();
        let count = points.len().max(1) as f64;
        let slot = plot_width / count;
        let bar_width = (slot * 0.7).max(1.0);
        let every = points.len().div_ceil(MAX_X_LABELS).max(1);
        let mut marks = Vec::new();
        let mut x_labels = Vec::new();
        let mut rows = Vec::new();
        let mut path = String::new();
        for (i, point) in points.iter().enumerate() {
            let cx = LEFT + slot * (i as f64 + 0.5);
            let value_text = match point.value {
                Some(v) => number(v, decimals),
                None => "N/A".to_owned(),
            };
            let with_unit = match point.value {
                Some(_) => format!("{value_text} {unit}"),
                None => "N/A (no data)".to_owned(),
            };
            let tooltip = if point.note.is_empty() {
                format!("{}: {with_unit}", point.long_label)
            } else {
                format!("{}: {with_unit} ({})", point.long_label, point.note)
            };
            let y = point.value.map_or(baseline, scale);
            if point.value.is_some() && kind == Kind::Line {
                path.push_str(if path.is_empty() { "M" } else { " L" });
                path.push_str(&format!("{cx:.1} {y:.1}"));
            }
            marks.push(Mark {
                x: cx - bar_width / 2.0,
                y,
                width: bar_width,
                height: baseline - y,
                cx,
                value_text,
                tooltip,
                has_value: point.value.is_some(),
            });
            if i % every == 0 {
                x_labels.push(XLabel {
                    x: cx,
                    text: point.label.clone(),
                });
            }
            rows.push((point.long_label.clone(), with_unit, point.note.clone()));
        }
        Chart {
            id: id.to_owned(),
            title: title.to_owned(),
            unit: unit.to_owned(),
            summary,
            bars: kind == Kind::Bars,
            empty: points.iter().all(|p| p.value.is_none()),
            marks,
            path,
            ticks,
            x_labels,
            rows,
            width: WIDTH,
            height: HEIGHT,
            left: LEFT,
            right_edge: WIDTH - RIGHT,
            baseline,
            top: TOP,
        }
    }

    /// Whether value labels fit above each mark (not when there are many).
    pub fn labels_fit(&self) -> bool {
        self.marks.len() <= 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[Option<f64>]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                label: format!("w{i}"),
                long_label: format!("week {i}"),
                value: *v,
                note: String::new(),
            })
            .collect()
    }

    #[test]
    fn bars_scale_to_a_nice_axis() {
        let chart = Chart::new(
            "c",
            "Deployments",
            "deployments",
            "s".into(),
            Kind::Bars,
            &points(&[Some(3.0), Some(7.0), None]),
            0,
        );
        let ticks: Vec<&str> = chart.ticks.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(ticks, ["0", "2", "4", "6", "8"]);
        // 7 of 8 of the plot's height; the missing value has no height and says N/A.
        let plot = chart.baseline - chart.top;
        assert!((chart.marks[1].height - plot * 7.0 / 8.0).abs() < 1e-6);
        assert_eq!(chart.marks[2].height, 0.0);
        assert_eq!(chart.marks[2].value_text, "N/A");
        assert_eq!(chart.marks[0].tooltip, "week 0: 3 deployments");
        assert_eq!(chart.rows[2].1, "N/A (no data)");
        assert!(!chart.empty);
    }

    #[test]
    fn a_line_skips_missing_points() {
        let chart = Chart::new(
            "c",
            "Lead time",
            "hours",
            "s".into(),
            Kind::Line,
            &points(&[Some(1.5), None, Some(2.25)]),
            1,
        );
        assert_eq!(chart.path.matches('L').count(), 1);
        assert_eq!(chart.marks[2].value_text, "2.2");
        let empty = Chart::new("e", "t", "h", "s".into(), Kind::Line, &points(&[None]), 1);
        assert!(empty.empty && empty.path.is_empty());
    }

    #[test]
    fn numbers_read_plainly() {
        assert_eq!(number(2.0, 2), "2");
        assert_eq!(number(2.5, 2), "2.5");
        assert_eq!(number(0.125, 2), "0.12");
        assert_eq!(nice_step(7.0), 2.0);
        assert_eq!(nice_step(100.0), 25.0);
        assert_eq!(nice_step(0.4), 0.1);
    }
}
