//! The report's charts, drawn as inline SVG by plotters' SVG backend: pure Rust, no font file
//! and no system library (text is left to the browser as `<text>` elements, sized by plotters'
//! built-in estimate), so the report needs neither network nor script to show them.
//!
//! Every function returns one `<svg>` element with a `viewBox`, which the page's CSS scales to
//! the width of the page or of the printed sheet.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// Width of every chart, in SVG units (scaled by the page).
pub(crate) const WIDTH: u32 = 820;

/// The colours of the report: links, review pairs, a third series, negative weights.
pub(crate) const BLUE: RGBColor = RGBColor(31, 100, 170);
pub(crate) const ORANGE: RGBColor = RGBColor(222, 128, 20);
pub(crate) const GREEN: RGBColor = RGBColor(40, 140, 70);
pub(crate) const RED: RGBColor = RGBColor(190, 50, 50);
pub(crate) const GREY: RGBColor = RGBColor(110, 110, 110);

fn drawing_error(chart: &str, e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("could not draw the chart '{chart}': {e}"))
}

/// One row of a horizontal bar chart: its label and one value per series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub label: String,
    pub values: Vec<f64>,
}

/// A series of a chart: its name (in the legend) and colour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Series<'a> {
    pub name: &'a str,
    pub color: RGBColor,
}

/// Pixels needed for the longest label (plotters' estimate is about 0.6 em a character).
fn label_width(labels: impl Iterator<Item = usize>) -> u32 {
    let longest = labels.max().unwrap_or(4).clamp(4, 48) as u32;
    longest * 7 + 16
}

fn x_range(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.04;
    (if lo < 0.0 || !from_zero { lo - pad } else { lo }, hi + pad)
}

fn root(svg: &mut String, height: u32) -> DrawingArea<SVGBackend<'_>, Shift> {
    SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area()
}

/// Horizontal bars, one row per [`Bar`], the first at the top; a row's series are drawn over each
/// other, each narrower than the one before (so a part, like new pairs of all pairs, shows
/// inside its whole). `signed`: negative values in red.
pub(crate) fn horizontal_bars(
    title: &str,
    x_desc: &str,
    series: &[Series<'_>],
    bars: &[Bar],
    signed: bool,
) -> Result<String> {
    let n = bars.len().max(1) as u32;
    let height = 90 + 22 * n;
    let (x0, x1) = x_range(bars.iter().flat_map(|b| b.values.iter().copied()), true);
    let mut svg = String::new();
    {
        let area = root(&mut svg, height);
        let err = |e| drawing_error(title, e);
        area.fill(&WHITE).map_err(err)?;
        let labels: Vec<&str> = bars.iter().map(|b| b.label.as_str()).collect();
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 17))
            .margin(8)
            .x_label_area_size(38)
            .y_label_area_size(label_width(labels.iter().map(|l| l.chars().count())))
            .build_cartesian_2d(x0..x1, (0..n).into_segmented())
            .map_err(err)?;
        let row_label = |v: &SegmentValue<u32>| row_label(&labels, n, v);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n as usize + 1)
            .y_label_formatter(&row_label)
            .x_desc(x_desc)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        let step = 16 / series.len().max(1) as u32;
        for (k, s) in series.iter().enumerate() {
            let inset = 3 + step.min(6) * k as u32;
            let rects: Vec<Rectangle<(f64, SegmentValue<u32>)>> = bars
                .iter()
                .enumerate()
                .filter_map(|(i, b)| {
                    let v = *b.values.get(k)?;
                    let row = n - 1 - i as u32;
                    let color = if signed && v < 0.0 { RED } else { s.color };
                    let mut r = Rectangle::new(
                        [
                            (0.0, SegmentValue::Exact(row)),
                            (v, SegmentValue::Exact(row + 1)),
                        ],
                        color.filled(),
                    );
                    r.set_margin(inset, inset, 0, 0);
                    Some(r)
                })
                .collect();
            let drawn = chart.draw_series(rects).map_err(err)?;
            if series.len() > 1 {
                let color = s.color;
                drawn.label(s.name).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
            }
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .position(SeriesLabelPosition::LowerRight)
                .draw()
                .map_err(err)?;
        }
        area.present().map_err(err)?;
    }
    Ok(svg)
}

/// One bin of a histogram: its range and a count per series (stacked in series order).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bin {
    pub from: f64,
    pub to: f64,
    pub counts: Vec<u64>,
}

/// A vertical line across a chart at `x`, with a label.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Marker {
    pub x: f64,
    pub label: String,
}

/// A stacked histogram with vertical marker lines (the thresholds).
pub(crate) fn histogram(
    title: &str,
    x_desc: &str,
    series: &[Series<'_>],
    bins: &[Bin],
    markers: &[Marker],
) -> Result<String> {
    let (x0, x1) = x_range(
        bins.iter()
            .flat_map(|b| [b.from, b.to])
            .chain(markers.iter().map(|m| m.x)),
        false,
    );
    let top = bins
        .iter()
        .map(|b| b.counts.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64
        * 1.12;
    let mut svg = String::new();
    {
        let area = root(&mut svg, 380);
        let err = |e| drawing_error(title, e);
        area.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 17))
            .margin(8)
            .x_label_area_size(38)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("pairs")
            .label_style(("sans-serif", 12))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(err)?;
        for (k, s) in series.iter().enumerate() {
            let color = s.color;
            let rects: Vec<Rectangle<(f64, f64)>> = bins
                .iter()
                .filter_map(|b| {
                    let below: u64 = b.counts.iter().take(k).sum();
                    let c = *b.counts.get(k)?;
                    (c > 0).then(|| {
                        let mut r = Rectangle::new(
                            [(b.from, below as f64), (b.to, (below + c) as f64)],
                            color.filled(),
                        );
                        r.set_margin(0, 0, 1, 1);
                        r
                    })
                })
                .collect();
            chart
                .draw_series(rects)
                .map_err(err)?
                .label(s.name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        draw_markers(&mut chart, markers, top, title)?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
        area.present().map_err(err)?;
    }
    Ok(svg)
}

fn draw_markers(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    markers: &[Marker],
    top: f64,
    title: &str,
) -> Result<()> {
    let err = |e| drawing_error(title, e);
    for (i, m) in markers.iter().enumerate() {
        chart
            .draw_series(LineSeries::new(
                [(m.x, 0.0), (m.x, top)],
                GREY.stroke_width(2),
            ))
            .map_err(err)?;
        let y = top * (0.96 - 0.07 * i as f64);
        chart
            .draw_series(std::iter::once(Text::new(
                m.label.clone(),
                (m.x, y),
                ("sans-serif", 12).into_font().color(&BLACK),
            )))
            .map_err(err)?;
    }
    Ok(())
}

/// Lines over a shared x axis (each series a list of points), y from 0 to 1, with markers.
pub(crate) fn lines(
    title: &str,
    x_desc: &str,
    series: &[(Series<'_>, Vec<(f64, f64)>)],
    markers: &[Marker],
) -> Result<String> {
    let (x0, x1) = x_range(
        series
            .iter()
            .flat_map(|(_, pts)| pts.iter().map(|p| p.0))
            .chain(markers.iter().map(|m| m.x)),
        false,
    );
    let mut svg = String::new();
    {
        let area = root(&mut svg, 380);
        let err = |e| drawing_error(title, e);
        area.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 17))
            .margin(8)
            .x_label_area_size(38)
            .y_label_area_size(48)
            .build_cartesian_2d(x0..x1, 0.0..1.08)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        for (s, pts) in series {
            let color = s.color;
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
                .map_err(err)?
                .label(s.name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 2, color.filled())))
                .map_err(err)?;
        }
        draw_markers(&mut chart, markers, 1.08, title)?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerLeft)
            .draw()
            .map_err(err)?;
        area.present().map_err(err)?;
    }
    Ok(svg)
}

/// One step of a waterfall: its label and what it adds (the last bar, the total, is drawn from
/// zero).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    pub label: String,
    pub add: f64,
}

/// A horizontal waterfall: each step a bar from the running total before it to the one after,
/// green when it adds, red when it takes away; then the total from zero.
pub(crate) fn waterfall(title: &str, steps: &[Step], total_label: &str) -> Result<String> {
    let n = steps.len() as u32 + 1;
    let mut ends = Vec::with_capacity(steps.len());
    let mut running = 0.0;
    for s in steps {
        let start = running;
        running += s.add;
        ends.push((start, running));
    }
    let total = running;
    let height = 90 + 22 * n;
    let (x0, x1) = x_range(ends.iter().flat_map(|(a, b)| [*a, *b]).chain([total]), true);
    let mut svg = String::new();
    {
        let area = root(&mut svg, height);
        let err = |e| drawing_error(title, e);
        area.fill(&WHITE).map_err(err)?;
        let labels: Vec<&str> = steps
            .iter()
            .map(|s| s.label.as_str())
            .chain([total_label])
            .collect();
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 17))
            .margin(8)
            .x_label_area_size(38)
            .y_label_area_size(label_width(labels.iter().map(|l| l.chars().count())))
            .build_cartesian_2d(x0..x1, (0..n).into_segmented())
            .map_err(err)?;
        let row_label = |v: &SegmentValue<u32>| row_label(&labels, n, v);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n as usize + 1)
            .y_label_formatter(&row_label)
            .x_desc("match weight (log2 of the likelihood ratio)")
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        let bars = ends
            .iter()
            .enumerate()
            .map(|(i, (a, b))| (i, *a, *b, if b >= a { GREEN } else { RED }))
            .chain([(steps.len(), 0.0, total, BLUE)]);
        let rects: Vec<Rectangle<(f64, SegmentValue<u32>)>> = bars
            .map(|(i, a, b, color)| {
                let row = n - 1 - i as u32;
                let mut r = Rectangle::new(
                    [
                        (a, SegmentValue::Exact(row)),
                        (b, SegmentValue::Exact(row + 1)),
                    ],
                    color.filled(),
                );
                r.set_margin(3, 3, 0, 0);
                r
            })
            .collect();
        chart.draw_series(rects).map_err(err)?;
        area.present().map_err(err)?;
    }
    Ok(svg)
}

/// The label of row segment `v` of a chart of `n` rows drawn bottom up (row 0 at the bottom is
/// the last label): empty past the last row (the axis asks for one label more than the rows).
fn row_label(labels: &[&str], n: u32, v: &SegmentValue<u32>) -> String {
    match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) if *i < n => labels
            .get((n - 1 - *i) as usize)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(svg: &str, what: &str) -> usize {
        svg.matches(what).count()
    }

    #[test]
    fn horizontal_bars_draw_one_rectangle_per_value_and_every_label() {
        let bars = vec![
            Bar {
                label: "first_name: exact".into(),
                values: vec![5.5],
            },
            Bar {
                label: "first_name: else".into(),
                values: vec![-3.25],
            },
        ];
        let s = [Series {
            name: "weight",
            color: BLUE,
        }];
        let svg = horizontal_bars("weights", "weight", &s, &bars, true).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..60]);
        assert!(svg.contains("viewBox=\"0 0 820 134\""), "{svg}");
        assert!(svg.contains("first_name: exact") && svg.contains("first_name: else"));
        // A negative weight is red, a positive one blue.
        assert!(svg.contains("#BE3232") && svg.contains("#1F64AA"), "{svg}");
    }

    #[test]
    fn histogram_stacks_series_and_draws_the_markers() {
        let bins = vec![
            Bin {
                from: 0.0,
                to: 1.0,
                counts: vec![2, 3],
            },
            Bin {
                from: 1.0,
                to: 2.0,
                counts: vec![0, 1],
            },
        ];
        let s = [
            Series {
                name: "links",
                color: BLUE,
            },
            Series {
                name: "review",
                color: ORANGE,
            },
        ];
        let markers = [Marker {
            x: 1.5,
            label: "match threshold".into(),
        }];
        let svg = histogram("weights", "weight", &s, &bins, &markers).unwrap();
        // Three non-empty cells, plus the two legend swatches, plus the background.
        let blue = count(&svg, "fill=\"#1F64AA\"");
        let orange = count(&svg, "fill=\"#DE8014\"");
        assert_eq!((blue, orange), (2, 3), "{svg}");
        assert!(svg.contains("match threshold"));
    }

    #[test]
    fn waterfall_runs_from_the_prior_to_the_total() {
        let steps = vec![
            Step {
                label: "prior".into(),
                add: -10.0,
            },
            Step {
                label: "dob".into(),
                add: 12.0,
            },
        ];
        let svg = waterfall("pair", &steps, "match weight").unwrap();
        assert!(svg.contains("prior") && svg.contains("dob") && svg.contains("match weight"));
        // One red, one green step and the blue total.
        assert_eq!(count(&svg, "fill=\"#BE3232\""), 1, "{svg}");
        assert_eq!(count(&svg, "fill=\"#288C46\""), 1);
        assert_eq!(count(&svg, "fill=\"#1F64AA\""), 1);
    }

    #[test]
    fn lines_draw_each_series() {
        let s = [(
            Series {
                name: "precision",
                color: BLUE,
            },
            vec![(0.0, 0.5), (1.0, 0.9)],
        )];
        let svg = lines("curve", "threshold", &s, &[]).unwrap();
        assert!(svg.contains("<polyline") || svg.contains("<path"), "{svg}");
        assert!(svg.contains("precision"));
    }

    #[test]
    fn each_row_is_labelled_once_and_the_extra_axis_label_is_empty() {
        let labels = ["first", "second", "third"];
        let at = |i| row_label(&labels, 3, &SegmentValue::CenterOf(i));
        // Drawn bottom up: row 0 is the last label.
        assert_eq!(at(0), "third");
        assert_eq!(at(2), "first");
        // The axis asks for one label more than the rows: it was the first label again.
        assert_eq!(at(3), "");
        assert_eq!(row_label(&labels, 3, &SegmentValue::Last), "");
    }
}
