//! The audit report as text a data protection officer can read.

use std::fmt::Write as _;

use super::AuditReport;

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

impl AuditReport {
    /// The readable report, ending with the verdict.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "pseudolink audit of {} ({} records, schema {})",
            self.input, self.records, self.schema_fingerprint
        );
        let _ = writeln!(s, "public name list: {}", self.public_names);
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        let _ = writeln!(
            s,
            "\nFrequency-alignment attack: rank the encodings of a name column by frequency and match them to the\nmost frequent public names, over the whole file and within groups of a low-cardinality column.\nShares are of records re-identified beyond a blind guess (the most frequent name for everyone)."
        );
        let _ = writeln!(
            s,
            "  {:<24} {:<6} {:>8}  {:<44} {}",
            "column",
            "list",
            "records",
            "estimated re-identified",
            if self.measured {
                "measured (true names known)"
            } else {
                ""
            }
        );
        for a in &self.attacks {
            let measured = match (&a.measured_share, &a.measured_raw_share, &a.measured_by) {
                (Some(m), Some(raw), Some(by)) => {
                    format!("{} ({by}; {} in all)", pct(*m), pct(*raw))
                }
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "  {:<24} {:<6} {:>8}  {:<44} {}",
                a.column,
                a.list,
                a.records,
                format!("{} ({})", pct(a.estimated_share), a.estimated_by),
                measured
            );
        }
        let _ = writeln!(
            s,
            "\nExact tokens: how concentrated each column is (a frequent token is a frequent value).\n  {:<28} {:>8} {:>9} {:>8} {:>7} {:>7}",
            "column", "records", "distinct", "unique", "top 1", "top 10"
        );
        for t in &self.tokens {
            let c = &t.concentration;
            let _ = writeln!(
                s,
                "  {:<28} {:>8} {:>9} {:>8} {:>7} {:>7}",
                t.column,
                c.records,
                c.distinct,
                pct(c.unique_share),
                pct(c.top1_share),
                pct(c.top10_share)
            );
        }
        if !self.filters.is_empty() {
            let _ = writeln!(
                s,
                "\nBloom filters: weight (bits set) and bit-frequency skew; balanced filters have a constant weight.\n  {:<24} {:>6} {:>15} {:>17} {:>7} {:>9} {:>8} {:>7}",
                "column", "bits", "weight mean/sd", "bit freq min-max", "skew", "distinct", "unique", "top 1"
            );
            for f in &self.filters {
                let c = &f.concentration;
                match &f.bits {
                    Some(b) => {
                        let _ = writeln!(
                            s,
                            "  {:<24} {:>6} {:>15} {:>17} {:>7.2} {:>9} {:>8} {:>7}",
                            f.column,
                            b.bits,
                            format!("{:.1}/{:.1}", b.mean_weight, b.weight_sd),
                            format!("{:.3}-{:.3}", b.min_bit_frequency, b.max_bit_frequency),
                            b.bit_frequency_cv,
                            c.distinct,
                            pct(c.unique_share),
                            pct(c.top1_share)
                        );
                    }
                    None => {
                        let _ = writeln!(s, "  {:<24} (no filters)", f.column);
                    }
                }
            }
        }
        let _ = writeln!(s);
        let column = self.riskiest_column.as_deref().unwrap_or("none");
        if self.pass {
            let _ = writeln!(
                s,
                "verdict: PASS: at most {} of records re-identifiable by name (highest: {column}; limit {})",
                pct(self.risk),
                pct(self.max_risk)
            );
        } else {
            let _ = writeln!(
                s,
                "verdict: FAIL: {} of records re-identifiable by name from {column} (limit {}); harden the schema (see docs/security.md) before sending this extract",
                pct(self.risk),
                pct(self.max_risk)
            );
        }
        s
    }
}
