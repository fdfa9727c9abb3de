//! The native module `pseudolink._native` behind the pure-Python package `pseudolink`.
//!
//! It only translates: every behaviour comes from the `pseudolink` core crate, through the same
//! functions the command-line tool calls. Errors become Python exceptions in one place
//! (module `errors`); every entry point runs inside `errors::guard` so no Rust panic reaches Python
//! as `PanicException`; long work runs without the GIL and honours Ctrl-C (module `run`).

mod errors;
mod extract;
mod index;
mod input;
mod link;
mod run;
mod sample;
mod schema;
mod secret;
mod spark;

use pyo3::prelude::*;

/// Raises a Rust panic inside the boundary guard; for tests that a panic arrives as
/// `InternalError`.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>, detached: bool) -> PyResult<()> {
    errors::guard(|| {
        if detached {
            run::detached(py, "panicking", false, |_| -> pseudolink::Result<()> {
                panic!("deliberate panic for tests")
            })
        } else {
            panic!("deliberate panic for tests")
        }
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", pseudolink::VERSION)?;
    errors::register(m)?;
    m.add_class::<schema::PySchema>()?;
    m.add_class::<secret::PySecret>()?;
    m.add_class::<extract::PyEncodedExtract>()?;
    m.add_function(wrap_pyfunction!(extract::encode_csv, m)?)?;
    m.add_function(wrap_pyfunction!(extract::encode_file, m)?)?;
    m.add_function(wrap_pyfunction!(extract::encode_table_file, m)?)?;
    m.add_function(wrap_pyfunction!(extract::encode_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(extract::encode_python, m)?)?;
    m.add_function(wrap_pyfunction!(extract::read_encoded, m)?)?;
    m.add_class::<link::PyLinks>()?;
    m.add_class::<link::PyModel>()?;
    m.add_class::<index::PyIndex>()?;
    m.add_function(wrap_pyfunction!(link::link, m)?)?;
    m.add_function(wrap_pyfunction!(link::dedupe, m)?)?;
    m.add_function(wrap_pyfunction!(link::evaluate, m)?)?;
    m.add_class::<spark::PyPairScorer>()?;
    m.add_function(wrap_pyfunction!(spark::blocking_columns, m)?)?;
    m.add_function(wrap_pyfunction!(spark::train_model, m)?)?;
    m.add_function(wrap_pyfunction!(spark::resolve_component, m)?)?;
    m.add_function(wrap_pyfunction!(spark::competition_standings, m)?)?;
    m.add_function(wrap_pyfunction!(spark::competes, m)?)?;
    m.add_function(wrap_pyfunction!(spark::competition_model, m)?)?;
    m.add_function(wrap_pyfunction!(spark::links_lone_pair, m)?)?;
    m.add_class::<sample::PyPairSampler>()?;
    m.add_function(wrap_pyfunction!(sample::sample_cut, m)?)?;
    m.add_function(wrap_pyfunction!(sample::pair_stats_of_parts, m)?)?;
    m.add(
        "RANDOM_SAMPLE",
        pseudolink::internals::encode::pair_stats::RANDOM_SAMPLE,
    )?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    Ok(())
}
