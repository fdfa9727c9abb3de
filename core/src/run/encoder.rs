//! The encoder stage: accepted rows encoded in parallel with rayon, in tasks of
//! [`TASK_ROWS`] rows, the parts coming back in input order, so that the output is the same bytes
//! whatever the number of threads.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::encode::pair_stats::{SampleLimits, SampledRecord};
use crate::encode::record::BATCH_ROWS;
use crate::encode::{EncodedRecord, Encoder};
use crate::normalise::MissingReason;

use super::rows::{Rows, TASK_ROWS};
use super::sink::Buffers;

/// The output of one parallel task: CSV bytes or records, and the missing-value counts.
pub(super) struct Part {
    pub(super) csv: Vec<u8>,
    pub(super) records: Vec<EncodedRecord>,
    pub(super) missing: Vec<BTreeMap<MissingReason, u64>>,
    /// Records sampled for the pair statistics, in input order.
    pub(super) samples: Vec<SampledRecord>,
}

/// Encodes the accepted rows `rows` (indices in `access`) in parallel; the parts come back in input order. With `to_csv` each part
/// holds the CSV rows (as [`EncodedRecord::write_csv_row`] writes them, in a buffer from
/// `buffers`), otherwise the records.
pub(super) fn encode_parallel<R: Rows>(
    encoder: &Encoder,
    access: &R,
    rows: &[usize],
    to_csv: bool,
    buffers: &Buffers,
    limits: SampleLimits,
) -> Vec<Part> {
    let fields = encoder.schema().fields.len();
    rows.par_chunks(TASK_ROWS)
        .map_init(
            || {
                let mut scratch = encoder.scratch();
                scratch.sample_with(Some(limits));
                scratch
            },
            |scratch, rows| {
                let mut part = Part {
                    csv: if to_csv {
                        buffers.take(rows.len() * 1024)
                    } else {
                        Vec::new()
                    },
                    records: Vec::with_capacity(if to_csv { 0 } else { rows.len() }),
                    missing: vec![BTreeMap::new(); fields],
                    samples: Vec::new(),
                };
                let mut records = vec![EncodedRecord::default(); BATCH_ROWS.min(rows.len())];
                let mut outcomes = vec![Vec::new(); records.len()];
                for batch in rows.chunks(BATCH_ROWS) {
                    let n = batch.len();
                    encoder.encode_batch_into(
                        |k| access.id(batch[k]),
                        |k, i| access.field(batch[k], i),
                        scratch,
                        &mut records[..n],
                        &mut outcomes[..n],
                    );
                    for (record, outcomes) in records.iter_mut().zip(&outcomes).take(n) {
                        for (m, o) in part.missing.iter_mut().zip(outcomes) {
                            if let Some(reason) = *o {
                                *m.entry(reason).or_insert(0u64) += 1;
                            }
                        }
                        if to_csv {
                            record.write_csv_row(encoder.layout(), &mut part.csv);
                            part.csv.push(b'\n');
                        } else {
                            part.records.push(std::mem::take(record));
                        }
                    }
                }
                part.samples = scratch.take_samples();
                part
            },
        )
        .collect()
}
