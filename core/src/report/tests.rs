//! The report and the review pack on a real run: a synthetic population encoded to files, linked,
//! reported, reviewed.

use std::path::{Path, PathBuf};

use super::*;
use crate::link::Band;
use crate::run::{encode_file, link, EncodeOptions, LinkInput, LinkRun, RunControl};
use crate::{Encoder, Secret};

/// A linked run in a temporary folder: `a.enc.csv`, `b.enc.csv`, `links.csv` (and its summary),
/// `truth.csv`.
fn run(people: usize) -> (tempfile::TempDir, PathBuf, Schema) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().to_path_buf();
    let data = pseudolink_synth::generate(&pseudolink_synth::SynthConfig {
        people,
        seed: 11,
        ..pseudolink_synth::SynthConfig::default()
    })
    .unwrap();
    pseudolink_synth::write(&data, &p.join("data")).unwrap();
    let schema = Schema::example();
    let secret = Secret::generate().unwrap();
    let encoder = Encoder::new(&schema, &secret);
    for (agency, out) in [("agency_a", "a.enc.csv"), ("agency_b", "b.enc.csv")] {
        encode_file(
            &encoder,
            &p.join("data").join(format!("{agency}.csv")),
            &p.join(out),
            &EncodeOptions {
                agreement: Some("ISA-TEST".into()),
                purpose: Some("report test".into()),
                ..EncodeOptions::default()
            },
            &RunControl::default(),
        )
        .unwrap();
    }
    let mut run = LinkRun::new(vec![
        LinkInput::EncodedFile(p.join("a.enc.csv")),
        LinkInput::EncodedFile(p.join("b.enc.csv")),
    ]);
    run.agreement = Some("ISA-TEST".into());
    link(&schema, run, &RunControl::new())
        .unwrap()
        .write(&p.join("links.csv"), None)
        .unwrap();
    std::fs::copy(p.join("data").join("truth.csv"), p.join("truth.csv")).unwrap();
    (dir, p, schema)
}

fn options(p: &Path) -> ReportOptions {
    ReportOptions {
        links: p.join("links.csv"),
        ..ReportOptions::default()
    }
}

#[test]
fn the_report_has_every_section_with_its_chart_and_table() {
    let (_dir, p, schema) = run(400);
    let links = read_link_rows(&p.join("links.csv")).unwrap();
    let pair = links
        .iter()
        .find(|l| l.band == Band::Match)
        .expect("the run has links");
    let mut o = options(&p);
    o.truth = Some(p.join("truth.csv"));
    o.explain = vec![(pair.left_id.clone(), pair.right_id.clone())];
    o.schema = Some(schema);
    let input = load(&o).unwrap();
    assert_eq!(input.manifests.iter().filter(|m| m.is_some()).count(), 2);
    assert!(input.notes.is_empty(), "{:?}", input.notes);
    assert_eq!(input.explanations.len(), 1);
    // The explanation reproduces the links file's weight.
    assert!((input.explanations[0].match_weight - pair.weight).abs() < 1e-5);
    assert_eq!(input.explanations[0].band, Some(Band::Match));
    let html = Report::new(input).to_html().unwrap();
    for id in [
        "run",
        "quality",
        "blocking",
        "model",
        "weights",
        "threshold",
        "clusters",
        "explain",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\"")), "{id}");
    }
    for chart in [
        "blocking",
        "model",
        "weights",
        "threshold",
        "clusters",
        "waterfall-1",
    ] {
        let start = html
            .find(&format!("id=\"chart-{chart}\""))
            .unwrap_or_else(|| panic!("chart {chart}"));
        let rest = &html[start..];
        let end = rest.find("</figure>").unwrap();
        assert!(rest[..end].contains("<svg"), "{chart}");
        // Every chart is followed by the table of its numbers.
        let after = &rest[end + "</figure>".len()..];
        assert!(after.trim_start().starts_with("<table>"), "{chart}");
    }
    assert!(html.contains("against the truth"));
    assert!(html.contains("ISA-TEST"));
    // Self-contained: nothing is fetched and nothing runs.
    assert!(html.contains("default-src 'none'"));
    // (The SVG namespace is a name, not an address that is fetched.)
    let html = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for banned in ["<script", "http://", "https://", "<link ", "src=\""] {
        assert!(!html.contains(banned), "{banned}");
    }
}

#[test]
fn without_truth_the_report_shows_the_models_expectations() {
    let (_dir, p, _schema) = run(200);
    let html = Report::new(load(&options(&p)).unwrap()).to_html().unwrap();
    assert!(html.contains("expected by the model"));
    assert!(!html.contains("<section id=\"explain\""));
    let fragment = Report::new(load(&options(&p)).unwrap())
        .summary_html()
        .unwrap();
    assert!(fragment.contains("chart-weights") && fragment.contains("chart-threshold"));
}

#[test]
fn explaining_needs_the_schema_and_known_ids() {
    let (_dir, p, schema) = run(200);
    let mut o = options(&p);
    o.explain = vec![("nobody".into(), "none".into())];
    assert!(matches!(load(&o), Err(Error::Invalid(m)) if m.contains("--schema")));
    o.schema = Some(schema);
    let e = load(&o).unwrap_err().to_string();
    assert!(e.contains("no record with id 'nobody'"), "{e}");
}

#[test]
fn a_changed_input_or_another_schema_is_refused_when_linking_again() {
    let (_dir, p, schema) = run(200);
    let summary = read_summary(&p.join("links.csv")).unwrap();
    // The links file moved with its inputs to another folder: found beside it.
    let moved = p.join("moved");
    std::fs::create_dir(&moved).unwrap();
    for f in [
        "links.csv",
        "links.csv.summary.json",
        "a.enc.csv",
        "a.enc.csv.manifest.json",
        "b.enc.csv",
        "b.enc.csv.manifest.json",
    ] {
        std::fs::copy(p.join(f), moved.join(f)).unwrap();
    }
    let mut summary_moved = summary.clone();
    for i in &mut summary_moved.inputs {
        i.file.path = format!(
            "/nonexistent/{}",
            Path::new(&i.file.path)
                .file_name()
                .unwrap()
                .to_string_lossy()
        );
    }
    assert!(relink(&summary_moved, &schema, &moved.join("links.csv")).is_ok());
    let (manifests, notes) = find_manifests(&summary_moved, &moved.join("links.csv"));
    assert!(manifests.iter().all(Option::is_some) && notes.is_empty());
    // An input changed since the run is refused.
    let mut bytes = std::fs::read(moved.join("a.enc.csv")).unwrap();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
    std::fs::write(moved.join("a.enc.csv"), bytes).unwrap();
    assert!(relink(&summary_moved, &schema, &moved.join("links.csv")).is_err());
    // A missing summary is named.
    std::fs::remove_file(moved.join("links.csv.summary.json")).unwrap();
    let e = read_summary(&moved.join("links.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("links.csv.summary.json") && e.contains("missing"),
        "{e}"
    );
}

#[test]
fn the_review_pack_lists_review_pairs_and_decisions_come_back() {
    let (_dir, p, schema) = run(400);
    let summary = read_summary(&p.join("links.csv")).unwrap();
    let linkage = relink(&summary, &schema, &p.join("links.csv")).unwrap();
    let rows = review_rows(&linkage);
    let links = read_link_rows(&p.join("links.csv")).unwrap();
    let review: Vec<&LinkRow> = links.iter().filter(|l| l.band == Band::Review).collect();
    assert_eq!(rows.len(), review.len());
    assert!(
        rows.len() >= 2,
        "the run needs review pairs: {}",
        rows.len()
    );
    for (r, l) in rows.iter().zip(&review) {
        assert_eq!(
            (&r.link.left_id, &r.link.right_id),
            (&l.left_id, &l.right_id)
        );
        // The levels' weights, and the standing's with competing links, add up to the weight.
        let standing = r
            .competition
            .as_ref()
            .expect("a review pair has a standing");
        let total: f64 = summary.model.prior_weight
            + r.comparisons.iter().map(|c| c.weight).sum::<f64>()
            + standing.weight;
        assert!((total - l.weight).abs() < 1e-4, "{total} {}", l.weight);
    }
    let names: Vec<String> = summary
        .model
        .comparisons
        .iter()
        .map(|c| c.comparison.clone())
        .collect();
    write_review(&p.join("review.csv"), &names, &rows).unwrap();
    let text = std::fs::read_to_string(p.join("review.csv")).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("left_id,right_id,match_weight,match_probability,"));
    assert!(header.ends_with(",decision,note"));
    assert!(header.contains("date_of_birth_level"), "{header}");
    assert!(header.contains(",competing_links_standing,competing_links_weight,decision"));
    assert_eq!(text.lines().count(), rows.len() + 1);

    // The first pair decided a match, the second not one, the rest left undecided.
    let filled: String = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let cut = line.strip_suffix(",,").unwrap_or(line);
            match i {
                0 => format!("{line}\n"),
                1 => format!("{cut},match,checked by A\n"),
                2 => format!("{cut},Non-Match,\n"),
                _ => format!("{line}\n"),
            }
        })
        .collect();
    std::fs::write(p.join("decisions.csv"), &filled).unwrap();
    let (out, counts) = apply_decisions(&links, &p.join("decisions.csv"), false, false).unwrap();
    assert_eq!(counts.rows_in, links.len() as u64);
    assert_eq!(counts.rows_in, counts.rows_out + counts.removed);
    assert_eq!((counts.matched, counts.removed), (1, 1));
    assert_eq!(counts.undecided, review.len() as u64 - 2);
    let promoted = out
        .iter()
        .find(|l| l.left_id == rows[0].link.left_id && l.right_id == rows[0].link.right_id)
        .unwrap();
    assert_eq!(promoted.band, Band::Match);
    assert!(promoted.cluster.is_some());
    assert!(!out
        .iter()
        .any(|l| l.left_id == rows[1].link.left_id && l.right_id == rows[1].link.right_id));
    write_link_rows(&p.join("final.csv"), &out).unwrap();
    assert_eq!(read_link_rows(&p.join("final.csv")).unwrap(), out);
    // The filled-in pack is a labels file for evaluate: its `match` rows are the true pairs.
    let labels = read_truth(&p.join("decisions.csv")).unwrap();
    assert_eq!(
        labels,
        [(rows[0].link.left_id.clone(), rows[0].link.right_id.clone())].into()
    );

    // Bad decisions are named by file, line and field.
    std::fs::write(
        p.join("bad.csv"),
        filled.replacen(",match,checked by A", ",perhaps,", 1),
    )
    .unwrap();
    let e = apply_decisions(&links, &p.join("bad.csv"), false, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.csv, line 2, field 'decision'") && e.contains("perhaps"),
        "{e}"
    );
    let link = links.iter().find(|l| l.band == Band::Match).unwrap();
    std::fs::write(
        p.join("bad2.csv"),
        format!(
            "left_id,right_id,decision\nnobody,x,match\n{},{},match\n",
            link.left_id, link.right_id
        ),
    )
    .unwrap();
    let e = apply_decisions(&links, &p.join("bad2.csv"), false, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 2") && e.contains("not in the links file"),
        "{e}"
    );
    std::fs::write(
        p.join("bad3.csv"),
        format!(
            "left_id,right_id,decision\n{},{},match\n",
            link.left_id, link.right_id
        ),
    )
    .unwrap();
    let e = apply_decisions(&links, &p.join("bad3.csv"), false, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("already a link"), "{e}");
}

#[test]
fn a_match_decision_merges_the_clusters_it_joins() {
    let row = |l: &str, r: &str, band: Band, cluster: Option<u32>| LinkRow {
        left_id: l.into(),
        right_id: r.into(),
        left_source: None,
        right_source: None,
        weight: 1.0,
        probability: 0.7,
        band,
        cluster,
    };
    let links = vec![
        row("a1", "b1", Band::Match, Some(1)),
        row("a2", "b2", Band::Match, Some(2)),
        row("a1", "b2", Band::Review, None),
        row("a9", "b9", Band::Review, None),
    ];
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d.csv");
    std::fs::write(&d, "left_id,right_id,decision\na1,b2,match\na9,b9,yes\n").unwrap();
    let (out, c) = apply_decisions(&links, &d, false, false).unwrap();
    assert_eq!(c.matched, 2);
    let clusters: Vec<Option<u32>> = out.iter().map(|l| l.cluster).collect();
    assert_eq!(clusters, vec![Some(1), Some(1), Some(1), Some(3)]);
    // One-to-one: a pair of its own.
    let (out, _) = apply_decisions(&links, &d, false, true).unwrap();
    assert_eq!(out[2].cluster, Some(3));
    assert_eq!(out[1].cluster, Some(2));
}

#[test]
fn a_bad_links_file_is_named_by_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("l.csv");
    std::fs::write(
        &f,
        "left_id,right_id,match_weight,match_probability,band,cluster_id\na,b,3.1,0.9,match,1\nc,d,x,0.5,review,\n",
    )
    .unwrap();
    let e = read_link_rows(&f).unwrap_err().to_string();
    assert!(e.contains("l.csv, line 3, field 'match_weight'"), "{e}");
    std::fs::write(&f, "left_id,right_id\na,b\n").unwrap();
    let e = read_link_rows(&f).unwrap_err().to_string();
    assert!(e.contains("line 1, field 'match_weight'"), "{e}");
    std::fs::write(
        &f,
        "left_id,right_id,match_weight,match_probability,band,cluster_id\na,b,3.1,0.9,maybe,1\n",
    )
    .unwrap();
    let e = read_link_rows(&f).unwrap_err().to_string();
    assert!(e.contains("line 2, field 'band'"), "{e}");
}
