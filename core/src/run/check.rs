//! The checks stage: each row of a chunk, in input order, goes through the row checks (cell
//! count, UTF-8, record id) and the duplicate record id check, is counted, and is either accepted
//! (for the encoder) or rejected: set aside with its line and reason, or the end of the run.
//!
//! A row's verdict depends only on the rows before it. The duplicate id check may need the input
//! read a second time ([`super::ids`]); the source hands it that ability, this stage does not
//! open anything.

use std::collections::BTreeMap;
use std::path::Path;

use crate::encode::pair_stats::Sampler;
use crate::encode::EncodedRecord;
use crate::error::{Error, Location};
use crate::io::manifest::Counts;
use crate::io::raw::{RawLayout, RejectReason, Rejection};
use crate::normalise::MissingReason;

use super::encoder::Part;
use super::ids::{IdCheck, IdHashes};
use super::rows::Rows;
use super::sink::{RejectSink, RejectedRow};

/// Totals gathered while encoding.
pub(super) struct Tally {
    pub(super) counts: Counts,
    pub(super) rejected_by_reason: BTreeMap<String, u64>,
    pub(super) missing: Vec<BTreeMap<MissingReason, u64>>,
    /// The pair statistics' samples, offered in input order.
    pub(super) sampler: Sampler,
}

impl Tally {
    pub(super) fn new(fields: usize) -> Self {
        Tally {
            counts: Counts::default(),
            rejected_by_reason: BTreeMap::new(),
            missing: vec![BTreeMap::new(); fields],
            sampler: Sampler::new(),
        }
    }

    pub(super) fn add_missing(&mut self, miss: Vec<BTreeMap<MissingReason, u64>>) {
        for (total, part) in self.missing.iter_mut().zip(miss) {
            for (reason, n) in part {
                *total.entry(reason).or_default() += n;
            }
        }
    }

    /// Takes in the encoded `parts` of a chunk: their counts of values treated as missing, their
    /// records into `records` (when they are kept in memory); returns their CSV buffers (empty
    /// unless they were encoded for a file), in order.
    pub(super) fn take_parts(
        &mut self,
        parts: Vec<Part>,
        mut records: Option<&mut Vec<EncodedRecord>>,
    ) -> Vec<Vec<u8>> {
        let mut csv = Vec::with_capacity(parts.len());
        for part in parts {
            self.add_missing(part.missing);
            for sampled in part.samples {
                self.sampler.offer(sampled);
            }
            if let Some(records) = records.as_mut() {
                records.extend(part.records);
            }
            csv.push(part.csv);
        }
        csv
    }
}

/// Why the checks stopped a run.
pub(super) enum Stop {
    /// A rejected row that was not set aside: rejected rows are not kept, or its rejection is
    /// fatal (an unclosed quote swallowing later rows).
    Refused(Refusal),
    /// Anything else: writing the rejects, the duplicate id check's work on disk, a cancel.
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(e)
    }
}

impl Stop {
    /// The error of the run. `remedy` says how the caller sets such rows aside (it depends on
    /// where the run writes, which the checks do not know).
    pub(super) fn into_error(self, remedy: &str) -> Error {
        match self {
            Stop::Failed(e) => e,
            Stop::Refused(r) => r.into_error(remedy),
        }
    }
}

/// The first rejected row, when rejected rows are not set aside.
pub(super) struct Refusal {
    location: Location,
    reason: RejectReason,
    message: String,
}

impl Refusal {
    fn into_error(self, remedy: &str) -> Error {
        // A fatal rejection (an unclosed quote swallowing later rows) refuses the file whatever
        // the rejects setting: its rows cannot be counted.
        let what_to_do = if self.reason.is_fatal() {
            String::new()
        } else {
            format!("; fix the row, or {remedy} to set such rows aside and count them")
        };
        Error::input(
            self.location,
            format!("{} ({}){what_to_do}", self.message, self.reason.as_str()),
        )
    }
}

/// The checks of one run and the totals they gather.
pub(super) struct Checks<'a> {
    raw: &'a RawLayout,
    input: Option<&'a Path>,
    rejects: RejectSink<'a>,
    /// The duplicate record id check.
    pub(super) ids: IdCheck<'a>,
    id_hashes: IdHashes,
    /// The totals.
    pub(super) tally: Tally,
}

impl<'a> Checks<'a> {
    /// The checks of rows mapped by `raw`, read from `input` (a file, for messages), their
    /// rejected rows going to `rejects`.
    pub(super) fn new(
        raw: &'a RawLayout,
        input: Option<&'a Path>,
        rejects: RejectSink<'a>,
        ids: IdCheck<'a>,
        fields: usize,
    ) -> Self {
        Checks {
            raw,
            input,
            rejects,
            ids,
            id_hashes: IdHashes::default(),
            tally: Tally::new(fields),
        }
    }

    /// Checks every row of `rows` in order, counting them; puts the indices of the accepted
    /// ones in `accepted`.
    pub(super) fn admit_chunk<R: Rows>(
        &mut self,
        rows: &R,
        accepted: &mut Vec<usize>,
    ) -> std::result::Result<(), Stop> {
        let ids: Vec<&str> = (0..rows.count()).map(|k| rows.id(k)).collect();
        let mut id_hashes = std::mem::take(&mut self.id_hashes);
        let hashes = id_hashes.of(&ids);
        for (k, (id, hash)) in ids.iter().zip(hashes).enumerate() {
            let line = rows.line(k);
            let verdict = rows.check(k);
            if self.admit(verdict, (id, *hash), line, || rows.raw_id(k))? {
                accepted.push(k);
            }
        }
        self.id_hashes = id_hashes;
        Ok(())
    }

    /// Counts one row read at `line` and records its verdict (adding the duplicate-id check).
    /// Returns whether the row is accepted; stops when a row is rejected and rejects are not
    /// kept. `id` is the row's trimmed record id and `hash` its [`id_hash`](super::ids::id_hash);
    /// `raw_id` gives the id as read for the rejects.
    fn admit(
        &mut self,
        verdict: std::result::Result<(), Rejection>,
        (id, hash): (&str, u128),
        line: u64,
        raw_id: impl FnOnce() -> String,
    ) -> std::result::Result<bool, Stop> {
        let tally = &mut self.tally;
        tally.counts.rows_read += 1;
        let raw = self.raw;
        let r = match verdict {
            Ok(()) if self.ids.first_use(hash, tally.counts.rows_read, line)? => return Ok(true),
            Ok(()) => Rejection {
                line,
                reason: RejectReason::DuplicateRecordId,
                field: raw.names.get(raw.id).cloned(),
                message: format!("record id '{id}' was already used by an earlier row"),
            },
            Err(r) => r,
        };
        tally.counts.rejected += 1;
        *tally
            .rejected_by_reason
            .entry(r.reason.as_str().to_string())
            .or_default() += 1;
        let row = |r: Rejection| RejectedRow {
            line: r.line,
            reason: r.reason,
            field: r.field,
            message: r.message,
            record_id: raw_id(),
        };
        match &mut self.rejects {
            RejectSink::File(f) if !r.reason.is_fatal() => f.write_all(&row(r).csv_row())?,
            RejectSink::Keep(v) if !r.reason.is_fatal() => v.push(row(r)),
            _ => {
                let mut location = Location::at(self.input, r.line);
                location.field = r.field;
                return Err(Stop::Refused(Refusal {
                    location,
                    reason: r.reason,
                    message: r.message,
                }));
            }
        }
        Ok(false)
    }
}
