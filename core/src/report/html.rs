//! The report as HTML: one document with its style inline, charts as inline SVG, each followed by
//! a table of its numbers. No script, no external resource (the Content-Security-Policy forbids
//! both), so it opens on an air-gapped laptop and prints as it shows.

use std::fmt::Write as _;

use crate::error::Result;
use crate::link::model::ComparisonMode;
use crate::link::Explanation;

use super::chart::{self, Bar, Bin, Marker, Series, Step, BLUE, GREEN, ORANGE};
use super::sections::{self, ThresholdPoint};
use super::ReportInput;

/// How many of the largest clusters are described.
const LARGEST_CLUSTERS: usize = 5;

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
  max-width: 1000px; margin: 0 auto; padding: 1em 1.5em; line-height: 1.4; }
h1 { font-size: 1.6em; border-bottom: 3px solid #1f64aa; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .88em; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eef3f8; }
figure.chart { margin: 1em 0; }
figure.chart svg { display: block; width: 100%; max-width: 820px; height: auto; }
figcaption { font-size: .85em; color: #444; }
.warn { background: #fff4e0; border-left: 4px solid #de8014; padding: .4em .8em; }
.note { color: #444; font-size: .9em; }
code { font-size: .92em; }
nav ol { columns: 2; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  section { break-before: page; }
  section.first { break-before: auto; }
  figure, table, .keep { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
}
"#;

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A table: header cells, then rows; cells starting with a digit, sign or dot are right-aligned.
fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let numeric = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '−' || c == '.')
            && s.chars().all(|c| !c.is_alphabetic() || c == 'e')
    };
    let mut t = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(t, "<th>{}</th>", esc(h));
    }
    t.push_str("</tr></thead><tbody>\n");
    for r in rows {
        t.push_str("<tr>");
        for c in r {
            let class = if numeric(c) { " class=\"n\"" } else { "" };
            let _ = write!(t, "<td{class}>{}</td>", esc(c));
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</tbody></table>\n");
    t
}

fn figure(id: &str, svg: &str, caption: &str) -> String {
    format!(
        "<figure class=\"chart\" id=\"chart-{}\" data-chart=\"{}\">\n{svg}\n<figcaption>{}</figcaption></figure>\n",
        esc(id),
        esc(id),
        esc(caption)
    )
}

fn n(x: u64) -> String {
    x.to_string()
}

fn f(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

fn p(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-4 {
        format!("{x:.3e}")
    } else {
        format!("{x:.6}")
    }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "—".into())
}

/// The whole report.
pub(crate) fn document(input: &ReportInput, generated_at: &str) -> Result<String> {
    let s = &input.summary;
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>pseudolink run report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        esc(&s.outputs.links.path)
    );
    let _ = writeln!(
        out,
        "<h1>pseudolink run report</h1>\n<p>Links file <code>{}</code>, {} run of {} input(s) finished {}; report made {} by pseudolink {}.</p>",
        esc(&s.outputs.links.path),
        esc(&s.mode),
        s.inputs.len(),
        esc(&s.run.finished_at),
        esc(generated_at),
        esc(crate::VERSION)
    );
    if !s.warnings.is_empty() || !input.notes.is_empty() {
        out.push_str("<div class=\"warn\"><strong>Warnings</strong><ul>");
        for w in s.warnings.iter().chain(&input.notes) {
            let _ = write!(out, "<li>{}</li>", esc(w));
        }
        out.push_str("</ul></div>\n");
    }
    let mut sections: Vec<(&str, &str, String)> = vec![
        ("run", "Run facts", run_facts(input)),
        ("quality", "Data quality", data_quality(input)),
        ("blocking", "Blocking", blocking(input)?),
        ("model", "The model", model(input)?),
        ("weights", "Match weights", weight_distribution(input)?),
        ("threshold", "Threshold selection", threshold(input)?),
        ("clusters", "Clusters", clusters(input)?),
    ];
    if !input.explanations.is_empty() {
        sections.push(("explain", "Explained pairs", explained(input)?));
    }
    out.push_str("<nav><strong>Contents</strong><ol>");
    for (id, title, _) in &sections {
        let _ = write!(out, "<li><a href=\"#{id}\">{}</a></li>", esc(title));
    }
    out.push_str("</ol></nav>\n");
    for (i, (id, title, body)) in sections.iter().enumerate() {
        let class = if i == 0 { " class=\"first\"" } else { "" };
        let _ = write!(
            out,
            "<section id=\"{id}\"{class}>\n<h2>{}</h2>\n{body}</section>\n",
            esc(title)
        );
    }
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

/// The notebook fragment: counts, match weights, threshold selection.
pub(crate) fn fragment(input: &ReportInput) -> Result<String> {
    let s = &input.summary;
    let mut out = String::from("<div class=\"pseudolink-report\">");
    let _ = write!(
        out,
        "<p><strong>pseudolink links</strong>: {} rows ({} links, {} for review) from {} candidate pairs; λ = {}, thresholds {} (match) and {} (review).</p>",
        s.counts.links,
        s.counts.match_,
        s.counts.review,
        s.blocking.candidate_pairs,
        p(s.model.lambda),
        s.thresholds.match_,
        s.thresholds.review
    );
    out.push_str(&weight_distribution(input)?);
    out.push_str(&threshold(input)?);
    out.push_str("</div>");
    Ok(out)
}

fn run_facts(input: &ReportInput) -> String {
    let s = &input.summary;
    let mode = match s.comparison {
        ComparisonMode::Clear => "cleartext",
        _ => "encoded",
    };
    let mut out = table(
        &["fact", "value"],
        &[
            vec!["mode".into(), format!("{} ({mode} comparison)", s.mode)],
            vec![
                "schema fingerprint".into(),
                s.schema_fingerprint.to_string(),
            ],
            vec!["agreement".into(), opt(&s.run.agreement)],
            vec!["purpose".into(), opt(&s.run.purpose)],
            vec![
                "run by".into(),
                format!("{} on {}", opt(&s.run.user), opt(&s.run.host)),
            ],
            vec!["started".into(), s.run.started_at.clone()],
            vec!["finished".into(), s.run.finished_at.clone()],
            vec!["library version".into(), s.library_version.clone()],
            vec!["model".into(), s.model_source.clone()],
            vec![
                "thresholds".into(),
                format!(
                    "match {}, review {}",
                    s.thresholds.match_, s.thresholds.review
                ),
            ],
            vec![
                "resolution".into(),
                format!(
                    "{}: {} clusters, {} merges refused, {} pairs displaced (support {})",
                    s.resolution.method,
                    s.resolution.clusters,
                    s.resolution.refused_merges,
                    s.resolution.displaced_pairs,
                    s.resolution.cluster_support
                ),
            ],
            vec![
                "output rows".into(),
                format!(
                    "{} ({} links, {} for review)",
                    s.counts.links, s.counts.match_, s.counts.review
                ),
            ],
        ],
    );
    out.push_str("<h3>Inputs</h3>\n");
    let rows: Vec<Vec<String>> = s
        .inputs
        .iter()
        .map(|i| {
            vec![
                i.role.clone(),
                i.file.path.clone(),
                n(i.records),
                n(i.file.bytes),
                i.file.blake3.chars().take(16).collect::<String>(),
                if i.manifest_verified { "yes" } else { "no" }.into(),
                i.key_check_value
                    .as_ref()
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| "—".into()),
                opt(&i.agreement),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "role",
            "file",
            "records",
            "bytes",
            "BLAKE3 (first 16)",
            "manifest verified",
            "key check value",
            "agreement",
        ],
        &rows,
    ));
    out.push_str("<h3>Timings</h3>\n");
    let rows: Vec<Vec<String>> = s
        .timings
        .iter()
        .map(|t| {
            vec![
                t.stage.clone(),
                f(t.seconds, 3),
                t.cpu_seconds.map_or_else(|| "—".into(), |c| f(c, 2)),
            ]
        })
        .collect();
    out.push_str(&table(&["stage", "seconds (wall)", "CPU seconds"], &rows));
    out
}

fn data_quality(input: &ReportInput) -> String {
    let s = &input.summary;
    let mut out = String::from("<p>From each input's manifest, written by the agency that encoded it: rows read, encoded and rejected, and per field the values present and those treated as missing, by reason. A value treated as missing does not reject its row: the record links on its other fields.</p>\n");
    if s.comparison == ComparisonMode::Clear {
        out.push_str("<p class=\"note\">Cleartext run: the inputs were raw extracts, read in clear, with no manifest.</p>\n");
        return out;
    }
    for (i, m) in s.inputs.iter().zip(&input.manifests) {
        let _ = writeln!(
            out,
            "<h3>{} — <code>{}</code></h3>",
            esc(&i.role),
            esc(&i.file.path)
        );
        let Some(m) = m else {
            out.push_str("<p class=\"note\">No manifest found for this input (see the warnings above).</p>\n");
            continue;
        };
        let reasons: Vec<String> = m
            .rejected_by_reason
            .iter()
            .map(|(r, c)| format!("{r}: {c}"))
            .collect();
        let _ = writeln!(
            out,
            "<p>Rows read {}, encoded {}, rejected {}{}. Encoded {} by {} under agreement {}.</p>",
            m.counts.rows_read,
            m.counts.encoded,
            m.counts.rejected,
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(&reasons.join(", ")))
            },
            esc(&m.run.finished_at),
            esc(&m.library_version),
            esc(&opt(&m.run.agreement))
        );
        let rows: Vec<Vec<String>> = sections::quality(m, &[])
            .into_iter()
            .map(|q| {
                let share = if m.counts.encoded == 0 {
                    0.0
                } else {
                    100.0 * q.present as f64 / m.counts.encoded as f64
                };
                vec![
                    q.field,
                    n(q.present),
                    f(share, 1),
                    q.missing
                        .iter()
                        .map(|(r, c)| format!("{r}: {c}"))
                        .collect::<Vec<_>>()
                        .join("; "),
                ]
            })
            .collect();
        if rows.is_empty() {
            out.push_str("<p>No value was treated as missing: every field is present in every encoded row.</p>\n");
        } else {
            out.push_str(
                "<p class=\"note\">Fields not listed had a value in every encoded row.</p>\n",
            );
            out.push_str(&table(
                &[
                    "field",
                    "present",
                    "present %",
                    "treated as missing (reason: count)",
                ],
                &rows,
            ));
        }
        if !m.absent_columns.is_empty() {
            let _ = writeln!(
                out,
                "<p>Columns absent from the input (all missing): {}</p>",
                esc(&m.absent_columns.join(", "))
            );
        }
    }
    out
}

fn blocking(input: &ReportInput) -> Result<String> {
    let b = &input.summary.blocking;
    let mut out = format!(
        "<p>{} distinct candidate pairs from {} rule(s); blocks larger than {} records a source were skipped ({} in all).</p>\n",
        b.candidate_pairs,
        b.rules.len(),
        b.max_block_size,
        b.skipped_blocks
    );
    let bars: Vec<Bar> = b
        .rules
        .iter()
        .map(|r| Bar {
            label: r.rule.clone(),
            values: vec![r.pairs as f64, r.new_pairs as f64],
        })
        .collect();
    let svg = chart::horizontal_bars(
        "Candidate pairs per blocking rule",
        "pairs",
        &[
            Series {
                name: "pairs the rule forms",
                color: BLUE,
            },
            Series {
                name: "new pairs (no earlier rule formed them)",
                color: ORANGE,
            },
        ],
        &bars,
        false,
    )?;
    out.push_str(&figure(
        "blocking",
        &svg,
        "Pairs each rule forms (a pair sharing two tokens of a token set counts twice) and, inside, the pairs no earlier rule had formed.",
    ));
    let rows: Vec<Vec<String>> = b
        .rules
        .iter()
        .map(|r| {
            vec![
                r.rule.clone(),
                n(r.pairs),
                n(r.new_pairs),
                n(r.blocks),
                n(r.skipped_blocks),
            ]
        })
        .collect();
    out.push_str(&table(
        &["rule", "pairs", "new pairs", "blocks", "skipped blocks"],
        &rows,
    ));
    if !b.largest_skipped.is_empty() {
        out.push_str("<h3>Largest skipped blocks</h3>\n");
        let rows: Vec<Vec<String>> = b
            .largest_skipped
            .iter()
            .take(20)
            .map(|k| {
                vec![
                    k.rule.clone(),
                    k.sizes
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(" × "),
                ]
            })
            .collect();
        out.push_str(&table(&["rule", "records per input"], &rows));
    }
    Ok(out)
}

fn model(input: &ReportInput) -> Result<String> {
    let m = &input.summary.model;
    let t = &m.training;
    let expects = match (t.candidate_matches, t.blocking_formed_share) {
        (Some(candidate), Some(share)) => format!(
            "the model expects {} matches among the candidate pairs (λ times the {} possible pairs) and, as blocking is estimated to form {}% of matches (the rest share no blocking key, so are never compared or linked), {} matches in all",
            f(candidate, 1),
            f(t.possible_pairs, 0),
            f(100.0 * share, 1),
            f(t.implied_matches, 1),
        ),
        _ => format!(
            "the model expects {} matches among {} possible pairs",
            f(t.implied_matches, 1),
            f(t.possible_pairs, 0)
        ),
    };
    let mut out = format!(
        "<p>λ, the probability that two records from different sources are the same person, is {} (prior weight {}); {}. u came from {} ({} pairs); m and λ from EM over {} distinct comparison patterns of {} candidate pairs: {} iterations, {}.</p>\n",
        p(m.lambda),
        f(m.prior_weight, 3),
        expects,
        esc(&t.u_source),
        t.u_pairs,
        t.distinct_patterns,
        t.candidate_pairs,
        t.em_iterations,
        if t.em_converged { "converged" } else { "NOT converged" }
    );
    let mut bars = Vec::new();
    let mut rows = Vec::new();
    for c in &m.comparisons {
        for l in &c.levels {
            bars.push(Bar {
                label: format!("{}: {}", c.comparison, l.level),
                values: vec![l.weight],
            });
            rows.push(vec![
                c.comparison.clone(),
                l.level.clone(),
                p(l.m),
                p(l.u),
                f(l.weight, 3),
                l.u_household.map_or_else(String::new, p),
                l.weight_household.map_or_else(String::new, |w| f(w, 3)),
            ]);
        }
    }
    let svg = chart::horizontal_bars(
        "Match weight of each comparison level",
        "weight = log2(m / u)",
        &[Series {
            name: "weight",
            color: BLUE,
        }],
        &bars,
        true,
    )?;
    out.push_str(&figure(
        "model",
        &svg,
        "What each comparison level adds to a pair's match weight (red: takes away). A missing value adds 0 and is not shown.",
    ));
    out.push_str(&table(
        &[
            "comparison",
            "level",
            "m",
            "u",
            "weight",
            "u (one household)",
            "weight (one household)",
        ],
        &rows,
    ));
    out.push_str("<h3>EM training sessions</h3>\n");
    let rows: Vec<Vec<String>> = t
        .sessions
        .iter()
        .map(|s| {
            vec![
                s.rule.clone(),
                n(s.pairs),
                s.comparisons_estimated.join(", "),
                p(s.lambda),
                n(s.iterations),
                if s.converged { "yes" } else { "no" }.into(),
                if s.used { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "session (rule)",
            "pairs",
            "comparisons estimated",
            "λ",
            "iterations",
            "converged",
            "used",
        ],
        &rows,
    ));
    let _ = writeln!(
        out,
        "<p class=\"note\">EM tolerance {}, at most {} iterations a session, pseudo-count {}, seed {}.{}</p>",
        t.em_tolerance,
        t.em_max_iterations,
        t.pseudo_count,
        t.seed,
        if t.comparisons_not_estimated.is_empty() {
            String::new()
        } else {
            format!(
                " Not estimated (no session covered them): {}.",
                esc(&t.comparisons_not_estimated.join(", "))
            )
        }
    );
    Ok(out)
}

fn threshold_markers(input: &ReportInput, as_weight: bool) -> Vec<Marker> {
    let t = &input.summary.thresholds;
    let x = |p: f64| {
        if as_weight {
            sections::weight_of(p)
        } else {
            p
        }
    };
    vec![
        Marker {
            x: x(t.match_),
            label: format!("match threshold {}", t.match_),
        },
        Marker {
            x: x(t.review),
            label: format!("review threshold {}", t.review),
        },
    ]
}

fn weight_distribution(input: &ReportInput) -> Result<String> {
    let s = &input.summary;
    let bins = sections::weight_bins(&input.links);
    let mut out = format!(
        "<p>The {} pairs of the links file by match weight: {} links (band <code>match</code>) and {} pairs for clerical review. Pairs below the review threshold are not in the file. The lines are the thresholds, as weights (weight = log2(p / (1 − p))).</p>\n",
        input.links.len(),
        s.counts.match_,
        s.counts.review
    );
    let chart_bins: Vec<Bin> = bins
        .iter()
        .map(|b| Bin {
            from: b.from,
            to: b.to,
            counts: vec![b.links, b.review],
        })
        .collect();
    let svg = chart::histogram(
        "Match weights of the pairs in the links file",
        "match weight",
        &[
            Series {
                name: "links",
                color: BLUE,
            },
            Series {
                name: "review",
                color: ORANGE,
            },
        ],
        &chart_bins,
        &threshold_markers(input, true),
    )?;
    out.push_str(&figure(
        "weights",
        &svg,
        "Pairs per band of match weight. A pair of the review band can sit above the match threshold when resolution did not take it (a cluster guard or one-to-one).",
    ));
    let rows: Vec<Vec<String>> = bins
        .iter()
        .filter(|b| b.links + b.review > 0)
        .map(|b| {
            vec![
                format!("{} to {}", f(b.from, 1), f(b.to, 1)),
                n(b.links),
                n(b.review),
            ]
        })
        .collect();
    out.push_str(&table(&["match weight", "links", "review"], &rows));
    Ok(out)
}

fn threshold(input: &ReportInput) -> Result<String> {
    let s = &input.summary;
    let grid = sections::threshold_grid(&input.links, s.thresholds.review, s.thresholds.match_);
    let (points, intro, what): (Vec<ThresholdPoint>, String, &str) = match &input.truth {
        Some(truth) => (
            sections::against_truth(&input.links, truth, s.mode == "dedupe", &grid),
            format!(
                "Against the {} known true pairs given: at each threshold, every pair of the links file at or above it counts as a link. True pairs below the review threshold are never in the file, so they count as missed at every threshold.",
                truth.len()
            ),
            "against the truth",
        ),
        None => (
            sections::expected(&input.links, s.model.training.implied_matches, &grid),
            format!(
                "No truth given (<code>--truth</code>): these are the model's own expectations. A pair of match probability p is a true match with probability p, so at a threshold the expected true links are the sum of p over the pairs at or above it; precision divides that by the pairs, recall by the {} matches the model expects in all (those among the candidate pairs and those it estimates blocking never formed, which count as missed at every threshold). They are only as good as the model's calibration (see docs/linking.md).",
                f(s.model.training.implied_matches.max(0.0), 1)
            ),
            "expected by the model",
        ),
    };
    let mut out = format!("<p>{intro}</p>\n");
    let xs: Vec<f64> = points
        .iter()
        .map(|p| sections::weight_of(p.threshold))
        .collect();
    let series = |get: fn(&ThresholdPoint) -> f64| -> Vec<(f64, f64)> {
        xs.iter().zip(&points).map(|(x, p)| (*x, get(p))).collect()
    };
    let svg = chart::lines(
        &format!("Precision, recall and F1 {what}, by threshold"),
        "threshold, as match weight",
        &[
            (
                Series {
                    name: "precision",
                    color: BLUE,
                },
                series(|p| p.precision),
            ),
            (
                Series {
                    name: "recall",
                    color: ORANGE,
                },
                series(|p| p.recall),
            ),
            (
                Series {
                    name: "F1",
                    color: GREEN,
                },
                series(|p| p.f1),
            ),
        ],
        &threshold_markers(input, true),
    )?;
    out.push_str(&figure(
        "threshold",
        &svg,
        &format!("Precision, recall and F1 {what} if the match threshold were moved (x: the threshold as a match weight; the table gives it as a probability)."),
    ));
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            vec![
                format!("{:.6}", p.threshold),
                f(sections::weight_of(p.threshold), 2),
                n(p.predicted),
                f(p.precision, 4),
                f(p.recall, 4),
                f(p.f1, 4),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "threshold (probability)",
            "as weight",
            "pairs at or above",
            "precision",
            "recall",
            "F1",
        ],
        &rows,
    ));
    Ok(out)
}

fn clusters(input: &ReportInput) -> Result<String> {
    let s = &input.summary;
    let c = sections::clusters(&input.links, s.mode == "dedupe", LARGEST_CLUSTERS);
    let one_to_one = s.resolution.method == "one_to_one";
    let mut out = format!(
        "<p>{} {} of two or more records among the links (records linked to nothing are not counted).</p>\n",
        c.sizes.values().sum::<u64>(),
        if one_to_one { "accepted one-to-one pairs" } else { "clusters" }
    );
    let bars: Vec<Bar> = c
        .sizes
        .iter()
        .map(|(size, count)| Bar {
            label: format!("{size} records"),
            values: vec![*count as f64],
        })
        .collect();
    let svg = chart::horizontal_bars(
        "Clusters by size",
        "clusters",
        &[Series {
            name: "clusters",
            color: BLUE,
        }],
        &bars,
        false,
    )?;
    out.push_str(&figure(
        "clusters",
        &svg,
        "How many clusters have each number of records.",
    ));
    let rows: Vec<Vec<String>> = c
        .sizes
        .iter()
        .map(|(size, count)| vec![n(*size as u64), n(*count)])
        .collect();
    out.push_str(&table(&["records in the cluster", "clusters"], &rows));
    if !c.largest.is_empty() {
        let _ = writeln!(
            out,
            "<h3>The {} largest clusters</h3>\n<p class=\"note\">Record ids only: each agency looks its own ids up in its own data.</p>",
            c.largest.len()
        );
        for shape in &c.largest {
            let members: Vec<String> = shape
                .members
                .iter()
                .map(|(src, id)| format!("{id} ({src})"))
                .collect();
            let _ = writeln!(
                out,
                "<div class=\"keep\"><p><strong>Cluster {}</strong>: {} records — {}</p>",
                shape.id,
                shape.members.len(),
                esc(&members.join(", "))
            );
            let rows: Vec<Vec<String>> = shape
                .pairs
                .iter()
                .map(|(l, r, prob)| vec![l.clone(), r.clone(), format!("{prob:.6}")])
                .collect();
            out.push_str(&table(&["left id", "right id", "match probability"], &rows));
            out.push_str("</div>\n");
        }
    }
    Ok(out)
}

fn explained(input: &ReportInput) -> Result<String> {
    let mut out = String::from("<p>Each pair's match weight, built up from the prior (λ) by what each comparison adds (green) or takes away (red); the last bar is the total.</p>\n");
    for (i, e) in input.explanations.iter().enumerate() {
        out.push_str(&waterfall(i, e)?);
    }
    Ok(out)
}

fn waterfall(i: usize, e: &Explanation) -> Result<String> {
    let mut steps = vec![Step {
        label: "prior (λ)".into(),
        add: e.prior_weight,
    }];
    steps.extend(e.comparisons.iter().map(|c| Step {
        label: format!("{}: {}", c.comparison, c.level),
        add: c.weight,
    }));
    steps.extend(e.competition.iter().map(|c| Step {
        label: format!("competing links: {}", c.standing),
        add: c.weight,
    }));
    let title = format!(
        "{} ({}) and {} ({})",
        e.left_id, e.left_source, e.right_id, e.right_source
    );
    let svg = chart::waterfall(&title, &steps, "match weight")?;
    let mut out = format!(
        "<h3>{}</h3>\n<p>Match weight {}, probability {}, band {}{}.</p>\n",
        esc(&title),
        f(e.match_weight, 3),
        p(e.match_probability),
        e.band
            .map_or("none (not in the links file)", |b| b.as_str()),
        if e.candidate {
            ""
        } else {
            "; not a candidate pair: no blocking rule brings these records together"
        }
    );
    out.push_str(&figure(
        &format!("waterfall-{}", i + 1),
        &svg,
        "Waterfall of the match weight.",
    ));
    let mut running = e.prior_weight;
    let mut rows = vec![vec![
        "(prior)".into(),
        String::new(),
        String::new(),
        String::new(),
        f(e.prior_weight, 3),
        f(running, 3),
    ]];
    for c in &e.comparisons {
        running += c.weight;
        rows.push(vec![
            c.comparison.clone(),
            c.level.clone(),
            c.m.map_or_else(String::new, p),
            c.u.map_or_else(String::new, p),
            f(c.weight, 3),
            f(running, 3),
        ]);
    }
    if let Some(c) = &e.competition {
        running += c.weight;
        rows.push(vec![
            "(competing links)".into(),
            c.standing.clone(),
            p(c.m),
            p(c.u),
            f(c.weight, 3),
            f(running, 3),
        ]);
    }
    out.push_str(&table(
        &["comparison", "level", "m", "u", "weight", "running total"],
        &rows,
    ));
    Ok(out)
}
