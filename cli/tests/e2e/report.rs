//! `pseudolink report` and `pseudolink review`, end to end on a synthetic population.

use std::path::Path;

use super::common::{run, text, workspace};

/// Synthetic extracts encoded and linked in `p`: `a.enc.csv`, `b.enc.csv`, `links.csv`,
/// `data/truth.csv`.
fn linked(p: &Path) {
    for args in [
        vec!["synth", "--people", "400", "--seed", "3", "--out", "data"],
        vec![
            "encode",
            "--schema",
            "s.json",
            "--secret-file",
            "k.hex",
            "--input",
            "data/agency_a.csv",
            "--output",
            "a.enc.csv",
            "--agreement",
            "ISA-E2E",
        ],
        vec![
            "encode",
            "--schema",
            "s.json",
            "--secret-file",
            "k.hex",
            "--input",
            "data/agency_b.csv",
            "--output",
            "b.enc.csv",
            "--agreement",
            "ISA-E2E",
        ],
        vec![
            "link",
            "--schema",
            "s.json",
            "--left",
            "a.enc.csv",
            "--right",
            "b.enc.csv",
            "--output",
            "links.csv",
        ],
    ] {
        let o = run(p, &args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    }
}

fn first(p: &Path, band: &str) -> (String, String) {
    let links = std::fs::read_to_string(p.join("links.csv")).expect("links.csv");
    links
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|c| c[4] == band)
        .map(|c| (c[0].to_string(), c[1].to_string()))
        .unwrap_or_else(|| panic!("no {band} row"))
}

#[test]
fn report_writes_one_self_contained_page_and_prints_its_path() {
    let (_dir, p) = workspace();
    linked(&p);
    let (l, r) = first(&p, "match");
    let pair = format!("{l},{r}");
    let o = run(
        &p,
        &[
            "report",
            "--links",
            "links.csv",
            "--output",
            "report.html",
            "--truth",
            "data/truth.csv",
            "--schema",
            "s.json",
            "--explain",
            &pair,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "report.html");
    let html = std::fs::read_to_string(p.join("report.html")).unwrap();
    for chart in [
        "blocking",
        "model",
        "weights",
        "threshold",
        "clusters",
        "waterfall-1",
    ] {
        assert!(html.contains(&format!("id=\"chart-{chart}\"")), "{chart}");
    }
    assert!(html.contains("ISA-E2E") && html.contains("against the truth"));
    assert!(
        html.contains(&format!("{l} (")),
        "the waterfall names the pair"
    );
    // Nothing to fetch (the SVG namespace is a name, not an address that is fetched).
    let bare = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!bare.contains("<script") && !bare.contains("http://") && !bare.contains("https://"));
    // No secret or token: the secret's hex is nowhere in it.
    let secret = std::fs::read_to_string(p.join("k.hex")).unwrap();
    assert!(!html.contains(secret.trim()));

    // Explaining needs the schema (exit 2); an unknown id is named.
    let o = run(
        &p,
        &[
            "report",
            "--links",
            "links.csv",
            "--output",
            "x.html",
            "--explain",
            &pair,
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--schema"));
    let o = run(
        &p,
        &[
            "report",
            "--links",
            "links.csv",
            "--output",
            "x.html",
            "--schema",
            "s.json",
            "--explain",
            "nobody,none",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no record with id 'nobody'"));
    assert!(!p.join("x.html").exists());
    // A links file without its summary is named (exit 3).
    std::fs::copy(p.join("links.csv"), p.join("alone.csv")).unwrap();
    let o = run(
        &p,
        &["report", "--links", "alone.csv", "--output", "x.html"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("alone.csv.summary.json"));
}

#[test]
fn review_pack_decisions_and_labels() {
    let (_dir, p) = workspace();
    linked(&p);
    let o = run(
        &p,
        &[
            "review",
            "--links",
            "links.csv",
            "--schema",
            "s.json",
            "--output",
            "review.csv",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let pack = std::fs::read_to_string(p.join("review.csv")).unwrap();
    let lines: Vec<&str> = pack.lines().collect();
    assert!(lines[0].ends_with(",decision,note"), "{}", lines[0]);
    assert!(
        lines[0].contains("first_name_level,first_name_weight"),
        "{}",
        lines[0]
    );
    let review_rows = std::fs::read_to_string(p.join("links.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.contains(",review,"))
        .count();
    assert_eq!(lines.len() - 1, review_rows);
    assert!(review_rows >= 2, "{review_rows}");
    // No cleartext: no name of the synthetic data is in the pack.
    let raw = std::fs::read_to_string(p.join("data/agency_a.csv")).unwrap();
    let name = raw.lines().nth(1).unwrap().split(',').nth(3).unwrap();
    assert!(name.len() > 2 && !pack.contains(name), "{name}");

    // Decide: the first a match, the second not.
    let filled: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let cut = l.strip_suffix(",,").unwrap_or(l);
            match i {
                1 => format!("{cut},match,\n"),
                2 => format!("{cut},non-match,seen\n"),
                _ => format!("{l}\n"),
            }
        })
        .collect();
    std::fs::write(p.join("decisions.csv"), &filled).unwrap();
    let o = run(
        &p,
        &[
            "review",
            "--apply",
            "decisions.csv",
            "--links",
            "links.csv",
            "--output",
            "final.csv",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("1 decided match") && text(&o).contains("1 decided non-match"));
    let before = std::fs::read_to_string(p.join("links.csv")).unwrap();
    let after = std::fs::read_to_string(p.join("final.csv")).unwrap();
    assert_eq!(after.lines().count() + 1, before.lines().count());
    let m = |s: &str| s.lines().filter(|l| l.contains(",match,")).count();
    assert_eq!(m(&after), m(&before) + 1);
    // The final links and the labels go into evaluate.
    let o = run(
        &p,
        &[
            "evaluate",
            "--links",
            "final.csv",
            "--truth",
            "data/truth.csv",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        &p,
        &[
            "evaluate",
            "--links",
            "final.csv",
            "--truth",
            "decisions.csv",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["true_positives"], 1, "{e}");
    assert_eq!(e["false_negatives"], 0, "{e}");

    // A bad decision is named by file, line and field (exit 3); nothing is written.
    std::fs::write(p.join("bad.csv"), filled.replacen(",match,", ",maybe,", 1)).unwrap();
    let o = run(
        &p,
        &[
            "review",
            "--apply",
            "bad.csv",
            "--links",
            "links.csv",
            "--output",
            "out.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("bad.csv, line 2, field 'decision'"),
        "{}",
        text(&o)
    );
    assert!(!p.join("out.csv").exists());
    // The links file is never overwritten; without --schema or --apply, a usage error.
    let o = run(
        &p,
        &[
            "review",
            "--apply",
            "decisions.csv",
            "--links",
            "links.csv",
            "--output",
            "links.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run(&p, &["review", "--links", "links.csv", "--output", "r.csv"]);
    assert!(!o.status.success());
}
