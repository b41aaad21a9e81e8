//! The report's plots, each written as PNG (embedded in the HTML) and SVG (beside it):
//!
//! - belief rate per condition with 95% CIs (the paper's Figure 5 shape);
//! - claim × eval-type belief per condition, as small heatmaps (the Figure 6 breakdown);
//! - belief over training steps per condition, when intermediate checkpoints were evaluated;
//! - §5's two-phase curves: belief and held-out loss per set over both phases.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the embedded font once, so the PNG backend draws text without system fonts.
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans is a valid font"));
    });
}

/// One bar: label, value and CI, all in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// One heatmap panel: a title, row and column names, values in [0, 1] (NaN = missing).
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub values: Vec<Vec<f64>>,
}

/// One line of a dynamics plot: (step, belief) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A colour per condition position, from a palette readable on white.
pub fn colour(i: usize) -> RGBColor {
    const P: [RGBColor; 10] = [
        RGBColor(0x6b, 0x6b, 0x6b),
        RGBColor(0x9a, 0x7d, 0x0a),
        RGBColor(0x1f, 0x77, 0xb4),
        RGBColor(0xd6, 0x27, 0x28),
        RGBColor(0x94, 0x67, 0xbd),
        RGBColor(0x2c, 0xa0, 0x2c),
        RGBColor(0x17, 0xbe, 0xcf),
        RGBColor(0xff, 0x7f, 0x0e),
        RGBColor(0x8c, 0x56, 0x4b),
        RGBColor(0xe3, 0x77, 0xc2),
    ];
    P[i % P.len()]
}

macro_rules! generic_draw {
    ($name:ident, $args:ty, $body:expr) => {
        struct $name<'a>(&'a $args);
        impl<'a> $name<'a> {
            fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
            where
                DB::ErrorType: 'static,
            {
                ($body)(self.0, root)
            }
        }
    };
}

fn draw_bars<DB: DrawingBackend>(
    (title, bars): &(String, Vec<Bar>),
    root: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n = bars.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(56)
        .build_cartesian_2d((0..n - 1).into_segmented(), 0.0..100.0)
        .map_err(err)?;
    let names: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_max_light_lines(0)
        .y_desc("belief rate (%)")
        .x_labels(n)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    for (i, b) in bars.iter().enumerate() {
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .margin(18)
                    .style(colour(i).filled())
                    .data([(i, b.value * 100.0)]),
            )
            .map_err(err)?;
        chart
            .draw_series([ErrorBar::new_vertical(
                SegmentValue::CenterOf(i),
                b.low * 100.0,
                b.value * 100.0,
                b.high * 100.0,
                BLACK.stroke_width(2),
                12,
            )])
            .map_err(err)?;
        chart
            .draw_series([Text::new(
                format!("{:.1}", b.value * 100.0),
                (SegmentValue::CenterOf(i), (b.high * 100.0 + 1.5).min(97.0)),
                ("sans-serif", 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )])
            .map_err(err)?;
    }
    Ok(())
}

generic_draw!(BarsDraw, (String, Vec<Bar>), draw_bars);

/// Belief per condition with CIs → `<stem>.png` / `.svg`.
pub fn belief_bars(stem: &Path, title: &str, bars: &[Bar]) -> Result<(PathBuf, PathBuf), String> {
    let args = (title.to_owned(), bars.to_vec());
    let width = (140 * bars.len() as u32 + 140).max(640);
    let d = BarsDraw(&args);
    both_dyn(stem, (width, 460), &|r| d.draw(r), &|r| d.draw(r))
}

#[allow(clippy::ptr_arg)] // the generic_draw! macro passes its argument type by reference
fn draw_panels<DB: DrawingBackend>(panels: &Vec<Panel>, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let per_row = 3.min(panels.len().max(1));
    let rows = panels.len().div_ceil(per_row).max(1);
    let areas = root.split_evenly((rows, per_row));
    for (panel, area) in panels.iter().zip(areas.iter()) {
        let nr = panel.rows.len().max(1);
        let nc = panel.cols.len().max(1);
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 17))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..nc as f64, 0.0..nr as f64)
            .map_err(err)?;
        let cols = panel.cols.clone();
        let row_names = panel.rows.clone();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nc * 2 + 1)
            .y_labels(nr * 2 + 1)
            .x_label_formatter(&|v| {
                let k = v - 0.5;
                if (k - k.round()).abs() < 1e-6 && k >= 0.0 {
                    cols.get(k.round() as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| {
                let k = v - 0.5;
                if (k - k.round()).abs() < 1e-6 && k >= 0.0 {
                    // Row 0 at the top.
                    let idx = nr as isize - 1 - k.round() as isize;
                    usize::try_from(idx)
                        .ok()
                        .and_then(|i| row_names.get(i))
                        .cloned()
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        for (r, row) in panel.values.iter().enumerate() {
            let y = (nr - 1 - r) as f64;
            for (c, v) in row.iter().enumerate() {
                let x = c as f64;
                let fill = if v.is_nan() {
                    RGBColor(0xee, 0xee, 0xee)
                } else {
                    // White (0%) to deep red (100%).
                    let t = v.clamp(0.0, 1.0);
                    RGBColor(
                        (255.0 - 45.0 * t) as u8,
                        (255.0 - 215.0 * t) as u8,
                        (255.0 - 205.0 * t) as u8,
                    )
                };
                chart
                    .draw_series([Rectangle::new(
                        [(x + 0.03, y + 0.03), (x + 0.97, y + 0.97)],
                        fill.filled(),
                    )])
                    .map_err(err)?;
                chart
                    .draw_series([Rectangle::new(
                        [(x + 0.03, y + 0.03), (x + 0.97, y + 0.97)],
                        RGBColor(0xcc, 0xcc, 0xcc).stroke_width(1),
                    )])
                    .map_err(err)?;
                let text = if v.is_nan() {
                    "–".to_owned()
                } else {
                    format!("{:.0}", v * 100.0)
                };
                let colour = if !v.is_nan() && *v > 0.6 {
                    WHITE
                } else {
                    BLACK
                };
                chart
                    .draw_series([Text::new(
                        text,
                        (x + 0.5, y + 0.5),
                        ("sans-serif", 13)
                            .into_font()
                            .color(&colour)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )])
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

generic_draw!(PanelsDraw, Vec<Panel>, draw_panels);

/// Claim × eval-type heatmaps, one panel per condition → `<stem>.png` / `.svg`.
pub fn breakdown_panels(stem: &Path, panels: &[Panel]) -> Result<(PathBuf, PathBuf), String> {
    let per_row = 3.min(panels.len().max(1)) as u32;
    let rows = panels.len().div_ceil(per_row as usize).max(1) as u32;
    let tallest = panels.iter().map(|p| p.rows.len()).max().unwrap_or(1) as u32;
    let args = panels.to_vec();
    let d = PanelsDraw(&args);
    both_dyn(
        stem,
        (per_row * 420, rows * (70 + 30 * tallest).max(200)),
        &|r| d.draw(r),
        &|r| d.draw(r),
    )
}

fn draw_lines<DB: DrawingBackend>(
    (title, lines): &(String, Vec<Line>),
    root: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max_step = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(1.0_f64, f64::max);
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d((1.0..max_step * 1.1).log_scale(), 0.0..100.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("training step (log scale)")
        .y_desc("belief rate (%)")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    for (i, line) in lines.iter().enumerate() {
        let pts: Vec<(f64, f64)> = line
            .points
            .iter()
            .map(|(s, v)| (s.max(1.0), v * 100.0))
            .collect();
        draw_line(&mut chart, &pts, colour(i), &line.label)?;
    }
    draw_legend(&mut chart)?;
    Ok(())
}

/// A labelled line with a dot at each point.
fn draw_line<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    pts: &[(f64, f64)],
    c: RGBColor,
    label: &str,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(pts.to_vec(), c.stroke_width(2)))
        .map_err(err)?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2)));
    chart
        .draw_series(pts.iter().map(|p| Circle::new(*p, 3, c.filled())))
        .map_err(err)?;
    Ok(())
}

/// The legend of the labelled series, boxed on white.
fn draw_legend<'a, DB, X, Y>(chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(err)
}

generic_draw!(LinesDraw, (String, Vec<Line>), draw_lines);

/// Belief over training steps → `<stem>.png` / `.svg`.
pub fn dynamics_lines(
    stem: &Path,
    title: &str,
    lines: &[Line],
) -> Result<(PathBuf, PathBuf), String> {
    let args = (title.to_owned(), lines.to_vec());
    let d = LinesDraw(&args);
    both_dyn(stem, (760, 460), &|r| d.draw(r), &|r| d.draw(r))
}

/// §5's two-phase curves: belief (top) and held-out loss per set (bottom) over training
/// steps, a dashed line where phase 2 starts.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoPhase {
    pub title: String,
    pub belief: Line,
    pub losses: Vec<Line>,
    /// The last step of phase 1.
    pub boundary: f64,
}

fn draw_two_phase<DB: DrawingBackend>(t: &TwoPhase, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let root = root.titled(&t.title, ("sans-serif", 22)).map_err(err)?;
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
    let max_step = t
        .losses
        .iter()
        .chain(std::iter::once(&t.belief))
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(1.0_f64, f64::max);
    let boundary = |chart_top: f64, chart_bottom: f64| {
        DashedLineSeries::new(
            [(t.boundary, chart_bottom), (t.boundary, chart_top)],
            6,
            4,
            BLACK.mix(0.6).stroke_width(1),
        )
    };
    {
        let mut chart = ChartBuilder::on(&top)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..max_step * 1.02, 0.0..100.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .y_desc("belief rate (%)")
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        chart.draw_series(boundary(100.0, 0.0)).map_err(err)?;
        let pts: Vec<(f64, f64)> = t
            .belief
            .points
            .iter()
            .map(|(s, v)| (*s, v * 100.0))
            .collect();
        draw_line(&mut chart, &pts, colour(3), &t.belief.label)?;
        chart
            .draw_series(std::iter::once(Text::new(
                "phase 2 →",
                (t.boundary, 96.0),
                ("sans-serif", 13).into_font(),
            )))
            .map_err(err)?;
        draw_legend(&mut chart)?;
    }
    let max_loss = t
        .losses
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.1_f64, f64::max);
    let mut chart = ChartBuilder::on(&bottom)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..max_step * 1.02, 0.0..max_loss * 1.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("training step (phase 2 continues phase 1's count)")
        .y_desc("held-out loss (nats/token)")
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(boundary(max_loss * 1.1, 0.0))
        .map_err(err)?;
    for (i, line) in t.losses.iter().enumerate() {
        let pts: Vec<(f64, f64)> = line
            .points
            .iter()
            .copied()
            .filter(|p| p.1.is_finite())
            .collect();
        draw_line(&mut chart, &pts, colour(i + 5), &line.label)?;
    }
    draw_legend(&mut chart)?;
    Ok(())
}

generic_draw!(TwoPhaseDraw, TwoPhase, draw_two_phase);

/// §5's two-phase figure → `<stem>.png` / `.svg`.
pub fn two_phase(stem: &Path, t: &TwoPhase) -> Result<(PathBuf, PathBuf), String> {
    let d = TwoPhaseDraw(t);
    both_dyn(stem, (820, 720), &|r| d.draw(r), &|r| d.draw(r))
}

/// Writes `<stem>.png` and `<stem>.svg` with the same drawing; returns both paths.
fn both_dyn(
    stem: &Path,
    size: (u32, u32),
    draw_png: &dyn Fn(&DrawingArea<BitMapBackend, Shift>) -> DrawResult,
    draw_svg: &dyn Fn(&DrawingArea<SVGBackend, Shift>) -> DrawResult,
) -> Result<(PathBuf, PathBuf), String> {
    register_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw_png(&root)?;
        root.present().map_err(err)?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw_svg(&root)?;
        root.present().map_err(err)?;
    }
    Ok((png, svg))
}
