//! `pseudolink._native.PairSampler`, `sample_cut` and `pair_stats_of_parts`: the pair
//! statistics of an extract encoded in parts (`pseudolink.spark.encode`'s partitions), from the
//! core's `encode::sample_parts`. Only conversions here: ranks travel as the core's `int64` rank
//! keys (for Spark's `LongType`), records as bytes.

use std::collections::BTreeMap;
use std::sync::Mutex;

use pseudolink::internals::encode::pair_stats::{
    household_level, PairStats, SampledRecord, Sampler,
};
use pseudolink::internals::encode::sample_parts::{rank_key, rank_of_key, SampleCut};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{guard, CoreResult, InvalidArgumentError};
use crate::extract::PyEncodedExtract;
use crate::schema::PySchema;

/// The pair statistics' sample of one part of an extract (a partition), gathered batch by batch.
#[pyclass(frozen, module = "pseudolink._native", name = "PairSampler")]
pub struct PyPairSampler {
    inner: Mutex<Option<Sampler>>,
}

impl PyPairSampler {
    fn with<T>(&self, f: impl FnOnce(&mut Sampler) -> T) -> PyResult<T> {
        let mut held = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match held.as_mut() {
            Some(s) => Ok(f(s)),
            None => Err(InvalidArgumentError::new_err(
                "this PairSampler's records were already taken",
            )),
        }
    }
}

#[pymethods]
impl PyPairSampler {
    /// An empty sampler.
    #[new]
    fn new() -> Self {
        PyPairSampler {
            inner: Mutex::new(Some(Sampler::new())),
        }
    }

    /// Takes in the sample that `encode_arrow(..., keep_sample=True)` kept for `extract` (an
    /// `InvalidArgumentError` if it kept none or it was taken already).
    fn add(&self, extract: &PyEncodedExtract) -> PyResult<()> {
        guard(|| {
            let taken = extract
                .data
                .sample
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            let Some(sample) = taken else {
                return Err(InvalidArgumentError::new_err(
                    "this extract holds no sample: encode it with keep_sample=True (and add it once)",
                ));
            };
            self.with(|s| s.merge(sample))
        })
    }

    /// How many times the household sample's limit was halved.
    #[getter]
    fn household_level(&self) -> PyResult<u32> {
        self.with(|s| s.household_level())
    }

    /// Takes the records kept: `(ranks, household_levels, samples)`, three lists in one order,
    /// ranks as `int64` values that sort as the ranks do, levels `None` for a record with no
    /// household, each record as bytes.
    #[allow(clippy::type_complexity)]
    fn records<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Vec<i64>, Vec<Option<u32>>, Vec<Bound<'py, PyBytes>>)> {
        guard(|| {
            let taken = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
            let Some(sampler) = taken else {
                return Err(InvalidArgumentError::new_err(
                    "this PairSampler's records were already taken",
                ));
            };
            let records = sampler.into_records();
            let ranks = records.iter().map(|r| rank_key(r.rank)).collect();
            let levels = records
                .iter()
                .map(|r| r.household.and_then(household_level))
                .collect();
            let bytes = records
                .iter()
                .map(|r| PyBytes::new(py, &r.to_bytes()))
                .collect();
            Ok((ranks, levels, bytes))
        })
    }
}

/// The cut that picks the sample of the whole from the parts' records: from the highest
/// household level of any part, the smallest rank keys among the parts' records (at least the
/// random sample's size of them, or all) and the number of records per household level. Returns
/// `(largest rank key kept or None, household level kept from)`.
#[pyfunction]
pub fn sample_cut(
    parts_level: u32,
    smallest_ranks: Vec<i64>,
    levels: BTreeMap<u32, u64>,
) -> (Option<i64>, u32) {
    let ranks: Vec<u64> = smallest_ranks.into_iter().map(rank_of_key).collect();
    let cut = SampleCut::new(parts_level, &ranks, &levels);
    (cut.rank().map(rank_key), cut.household_level())
}

/// The pair statistics (JSON, as in a manifest's `pair_stats`) of the records `sample_cut`'s
/// `(rank, level)` keeps among `samples` (the parts' record bytes, any order).
#[pyfunction]
pub fn pair_stats_of_parts<'py>(
    py: Python<'py>,
    schema: &PySchema,
    rank: Option<i64>,
    level: u32,
    samples: Vec<Bound<'py, PyBytes>>,
) -> PyResult<String> {
    guard(|| {
        let cut = SampleCut::at(rank.map(rank_of_key), level);
        let records = samples
            .iter()
            .map(|b| SampledRecord::from_bytes(b.as_bytes()))
            .collect::<pseudolink::Result<Vec<_>>>()
            .py()?;
        let schema = schema.inner.clone();
        let stats = py.detach(move || PairStats::of_parts(&schema, &cut, records));
        serde_json::to_string(&stats)
            .map_err(|e| InvalidArgumentError::new_err(format!("pair statistics: {e}")))
    })
}
