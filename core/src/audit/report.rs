//! The audit report: per attribute and attack the share re-identified beyond a blind guess, the
//! whole record, singling out, and the verdict; as JSON and as text a data protection officer
//! can read. No value of any record appears in it.

use std::fmt::Write as _;

use serde::Serialize;

use crate::schema::Schema;

use super::infer::WholeRecord;
use super::pair_stats::PairStatsAttack;
use super::salts::SaltDetection;
use super::score::{Board, Family, Finding, Score};
use super::singling::SinglingOut;
use super::target::Target;
use super::AuditOptions;

/// One attack's result on one attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    /// The attack family.
    pub family: Family,
    /// Known records (`None`: the attack uses none).
    pub k: Option<usize>,
    /// How (which column, groups, bridges, thresholds).
    pub how: String,
    /// The columns read.
    pub columns: Vec<String>,
    /// Records measured (with a true value, not known to the attacker).
    pub records: u64,
    /// Records guessed.
    pub guessed: u64,
    /// Records guessed right.
    pub correct: u64,
    /// Records the blind guess gets right.
    pub blind: u64,
    /// `correct / records`.
    pub share: f64,
    /// `(correct - blind) / records`, at least 0: what the verdict judges.
    pub beyond_blind: f64,
    /// `correct / guessed`.
    pub precision: f64,
}

impl Measured {
    fn of(f: &Finding) -> Measured {
        let s: Score = f.score;
        Measured {
            family: f.family,
            k: f.k,
            how: f.how.clone(),
            columns: f.columns.clone(),
            records: s.records,
            guessed: s.guessed,
            correct: s.correct,
            blind: s.blind,
            share: s.share(),
            beyond_blind: s.beyond_blind(),
            precision: s.precision(),
        }
    }
}

/// Everything measured on one attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeReport {
    /// The attribute (`first_name`, `first_name.initial`...).
    pub attribute: String,
    /// `whole` or `partial`.
    pub class: &'static str,
    /// Its bound.
    pub bound: f64,
    /// Records with a true value.
    pub records: u64,
    /// Share of them the blind guess gets right.
    pub blind_share: f64,
    /// The strongest variant of every family, per number of known records.
    pub results: Vec<Measured>,
    /// The strongest of all.
    pub strongest: Option<Measured>,
    /// Whether the strongest stays within the bound.
    pub pass: bool,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Every attribute within its bound.
    pub pass: bool,
    /// The attributes above their bound, strongest attack first.
    pub failures: Vec<String>,
    /// Worst whole value: attribute and share beyond blind.
    pub worst_whole: Option<(String, f64)>,
    /// Worst partial value.
    pub worst_partial: Option<(String, f64)>,
}

/// Time taken by one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    /// The step.
    pub step: String,
    /// Seconds.
    pub seconds: f64,
}

/// A scenario of known records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownScenario {
    /// Number of known records.
    pub k: usize,
    /// How they were chosen.
    pub label: String,
}

/// The result of an audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    /// The encoded extracts (the first is audited).
    pub inputs: Vec<String>,
    /// Records in all of them.
    pub records: u64,
    /// Records of the first with a true value.
    pub audited: u64,
    /// The schema's fingerprint.
    pub schema_fingerprint: String,
    /// The reference population.
    pub reference: String,
    /// Its rows.
    pub reference_rows: u64,
    /// The dictionaries used, per field.
    pub dictionaries: Vec<String>,
    /// The scenarios of known records.
    pub known: Vec<KnownScenario>,
    /// Bound on whole values.
    pub max_whole: f64,
    /// Bound on partial values.
    pub max_partial: f64,
    /// Per attribute.
    pub attributes: Vec<AttributeReport>,
    /// Name, date of birth and postcode all right, per scenario.
    pub whole_record: Vec<WholeRecord>,
    /// Records made unique by their encodings.
    pub singling_out: SinglingOut,
    /// Same-salt pairs found in salted filters.
    pub salt_detection: Vec<SaltDetection>,
    /// What the pair statistics of the manifests gave away.
    pub pair_stats: Vec<PairStatsAttack>,
    /// Variants of attacks tried.
    pub variants: usize,
    /// The verdict.
    pub verdict: Verdict,
    /// Things to know (an unverified manifest...).
    pub warnings: Vec<String>,
    /// Time per step.
    pub timings: Vec<Timing>,
    /// Total seconds.
    pub total_seconds: f64,
}

/// What the report is made of.
pub(crate) struct Parts<'a> {
    pub schema: &'a Schema,
    pub inputs: Vec<String>,
    pub target: &'a Target<'a>,
    pub board: &'a Board,
    pub whole: Vec<WholeRecord>,
    pub singling: SinglingOut,
    pub salt_detection: Vec<SaltDetection>,
    pub pair_stats: Vec<PairStatsAttack>,
    pub reference: String,
    pub options: &'a AuditOptions,
    pub warnings: Vec<String>,
}

pub(crate) fn build(p: Parts<'_>) -> AuditReport {
    let values = p.target.values;
    let mut attributes = Vec::new();
    for (a, v) in values.attributes.iter().enumerate() {
        let records = v.records_with_truth() as u64;
        if records == 0 {
            continue;
        }
        let mut results: Vec<Measured> = p
            .board
            .strongest
            .iter()
            .filter(|f| f.attribute == a)
            .map(Measured::of)
            .collect();
        results.sort_by(|x, y| x.family.cmp(&y.family).then(x.k.cmp(&y.k)));
        let strongest = results
            .iter()
            .max_by(|x, y| {
                x.beyond_blind
                    .total_cmp(&y.beyond_blind)
                    .then(x.correct.cmp(&y.correct))
                    .then(y.family.cmp(&x.family))
            })
            .cloned();
        let bound = if v.whole_value {
            p.options.max_whole
        } else {
            p.options.max_partial
        };
        let blind = v.blind();
        let blind_right = v
            .truth
            .iter()
            .filter(|&&t| t != super::columns::NONE && t == blind)
            .count();
        attributes.push(AttributeReport {
            attribute: v.name.clone(),
            class: if v.whole_value { "whole" } else { "partial" },
            bound,
            records,
            blind_share: blind_right as f64 / records as f64,
            pass: strongest.as_ref().is_none_or(|s| s.beyond_blind <= bound),
            results,
            strongest,
        });
    }
    let worst = |whole: bool| {
        attributes
            .iter()
            .filter(|a| (a.class == "whole") == whole)
            .filter_map(|a| Some((a.attribute.clone(), a.strongest.as_ref()?.beyond_blind)))
            .max_by(|x, y| x.1.total_cmp(&y.1))
    };
    let mut failing: Vec<&AttributeReport> = attributes.iter().filter(|a| !a.pass).collect();
    failing.sort_by(|x, y| {
        let s = |a: &AttributeReport| a.strongest.as_ref().map_or(0.0, |s| s.beyond_blind);
        s(y).total_cmp(&s(x))
    });
    let failures = failing
        .iter()
        .filter_map(|a| {
            let s = a.strongest.as_ref()?;
            Some(format!(
                "{} ({}): {} beyond a blind guess by {}{} (bound {})",
                a.attribute,
                a.class,
                pct(s.beyond_blind),
                s.family.as_str(),
                s.k.map(|k| format!(" with {k} known records"))
                    .unwrap_or_default(),
                pct(a.bound)
            ))
        })
        .collect::<Vec<_>>();
    let verdict = Verdict {
        pass: failures.is_empty(),
        failures,
        worst_whole: worst(true),
        worst_partial: worst(false),
    };
    AuditReport {
        inputs: p.inputs,
        records: p.target.columns.records() as u64,
        audited: values.audited().len() as u64,
        schema_fingerprint: p.schema.fingerprint().to_string(),
        reference: p.reference,
        reference_rows: values.reference_rows as u64,
        dictionaries: values
            .dictionaries
            .iter()
            .enumerate()
            .filter_map(|(f, d)| {
                let (ids, source) = d.as_ref()?;
                Some(format!(
                    "{}: {} values from {source}",
                    p.schema.fields[f].name,
                    ids.len()
                ))
            })
            .collect(),
        known: p
            .target
            .knowns
            .iter()
            .map(|k| KnownScenario {
                k: k.k,
                label: k.label.clone(),
            })
            .collect(),
        max_whole: p.options.max_whole,
        max_partial: p.options.max_partial,
        attributes,
        whole_record: p.whole,
        singling_out: p.singling,
        salt_detection: p.salt_detection,
        pair_stats: p.pair_stats,
        variants: p.board.variants,
        verdict,
        warnings: p.warnings,
        timings: Vec::new(),
        total_seconds: 0.0,
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn k_label(k: Option<usize>) -> String {
    k.map_or("-".to_string(), |k| k.to_string())
}

impl AuditReport {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The strongest result on attribute `name` of `family` with `k` known records.
    pub fn result(&self, name: &str, family: Family, k: Option<usize>) -> Option<&Measured> {
        self.attributes
            .iter()
            .find(|a| a.attribute == name)?
            .results
            .iter()
            .find(|m| m.family == family && m.k == k)
    }

    /// The report on attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&AttributeReport> {
        self.attributes.iter().find(|a| a.attribute == name)
    }

    /// The readable report, ending with the verdict.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "pseudolink audit (red team) of {} ({} records, {} audited against the cleartext; schema {})",
            self.inputs.join(", "),
            self.records,
            self.audited,
            self.schema_fingerprint
        );
        let _ = writeln!(
            s,
            "reference population: {} ({} rows)",
            self.reference, self.reference_rows
        );
        for d in &self.dictionaries {
            let _ = writeln!(s, "dictionary: {d}");
        }
        for k in &self.known {
            let _ = writeln!(s, "insider scenario: {}", k.label);
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        let _ = writeln!(
            s,
            "\nShares are of records whose true value the attack guessed, beyond a blind guess (the most\nfrequent reference value for everyone); with known records, of the records not known.\nBounds: whole values {}, partial values {}.\n",
            pct(self.max_whole),
            pct(self.max_partial)
        );
        let _ = writeln!(
            s,
            "  {:<28} {:<7} {:>7} {:>7}  {:>8} {:>7}  {:<38} verdict",
            "attribute", "class", "records", "blind", "beyond", "raw", "strongest attack",
        );
        for a in &self.attributes {
            let (beyond, raw, by) = match &a.strongest {
                Some(m) => (
                    pct(m.beyond_blind),
                    pct(m.share),
                    format!(
                        "{}{}",
                        m.family.as_str(),
                        m.k.map(|k| format!(", k={k}")).unwrap_or_default()
                    ),
                ),
                None => ("-".into(), "-".into(), "none".into()),
            };
            let _ = writeln!(
                s,
                "  {:<28} {:<7} {:>7} {:>7}  {:>8} {:>7}  {:<38} {}",
                a.attribute,
                a.class,
                a.records,
                pct(a.blind_share),
                beyond,
                raw,
                by,
                if a.pass { "ok" } else { "ABOVE BOUND" }
            );
        }
        let _ = writeln!(
            s,
            "\nEvery attack (the strongest variant of each; k = known records):"
        );
        for a in &self.attributes {
            let _ = writeln!(s, "  {}", a.attribute);
            for m in &a.results {
                let _ = writeln!(
                    s,
                    "    {:<32} {:>5} {:>7} beyond, {:>7} raw, precision {:>6}  {}",
                    m.family.as_str(),
                    k_label(m.k),
                    pct(m.beyond_blind),
                    pct(m.share),
                    pct(m.precision),
                    m.how
                );
            }
        }
        let _ = writeln!(
            s,
            "\nWhole record (every name, date of birth and postcode right, combined attack):"
        );
        for w in &self.whole_record {
            let _ = writeln!(
                s,
                "  k={:<6} {} of {} records ({} beyond blind)",
                k_label(w.k),
                w.score.correct,
                w.score.records,
                pct(w.score.beyond_blind())
            );
        }
        let so = &self.singling_out;
        let _ = writeln!(
            s,
            "\nSingling out: {} of records unique on their token columns together, {} on all columns.",
            pct(so.all_tokens_unique_share),
            pct(so.all_columns_unique_share)
        );
        let _ = writeln!(
            s,
            "  {:<28} {:>8} {:>9} {:>8} {:>7}",
            "column", "records", "distinct", "unique", "top"
        );
        for c in &so.columns {
            let _ = writeln!(
                s,
                "  {:<28} {:>8} {:>9} {:>8} {:>7}",
                c.column,
                c.records,
                c.distinct,
                pct(c.unique_share),
                pct(c.top_share)
            );
        }
        for d in &self.salt_detection {
            if d.not_needed {
                let _ = writeln!(
                    s,
                    "\nSalt-partition detection in {}: not needed, other columns show every record's salt",
                    d.column
                );
                continue;
            }
            let _ = writeln!(
                s,
                "\nSalt-partition detection in {}: 99.9% of random pairs stay below Dice {:.3}; {} pairs above {:.3} bridge {}{}",
                d.column,
                d.baseline,
                d.pairs,
                d.threshold,
                d.bridges.join(", "),
                d.truly_same_salt
                    .map(|x| format!(" ({} truly share the salt)", pct(x)))
                    .unwrap_or_default()
            );
        }
        for p in &self.pair_stats {
            let _ = writeln!(
                s,
                "\nPair statistics of input {}: {} of {} sampled records placed by their id hash; {} patterns, {} counted fewer than {} times; {} of {} profiles check",
                p.input + 1,
                p.placed_records,
                p.random_records,
                p.patterns,
                p.small_cells,
                super::pair_stats::SMALL_CELL,
                p.consistent_profiles,
                p.profiles
            );
            if let Some(why) = &p.skipped {
                let _ = writeln!(s, "  not attacked: {why}");
            } else {
                let _ = writeln!(
                    s,
                    "  {} sampled pairs with an agreement no token shows{}{}",
                    p.revealed_pairs,
                    if p.revealed.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ": {}",
                            p.revealed
                                .iter()
                                .map(|(a, n)| format!("{a} {n}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    },
                    p.truly_agree
                        .map(|x| format!(" ({} truly agree)", pct(x)))
                        .unwrap_or_default()
                );
            }
        }
        let _ = writeln!(
            s,
            "\nTime: {:.1} s ({} variants of attacks)",
            self.total_seconds, self.variants
        );
        for t in &self.timings {
            let _ = writeln!(s, "  {:<40} {:>7.2} s", t.step, t.seconds);
        }
        let _ = writeln!(s);
        if self.verdict.pass {
            let _ = writeln!(
                s,
                "verdict: PASS: every whole value within {} and every partial value within {} beyond a blind guess",
                pct(self.max_whole),
                pct(self.max_partial)
            );
        } else {
            let _ = writeln!(
                s,
                "verdict: FAIL: {} attribute(s) above their bound; harden the schema (see docs/security.md) before sending this extract",
                self.verdict.failures.len()
            );
            for f in &self.verdict.failures {
                let _ = writeln!(s, "  {f}");
            }
        }
        s
    }
}
