//! What `pseudolink.encode` accepts, as columns of text the core reads in place.
//!
//! Arrow data (pyarrow Tables, polars DataFrames, pandas DataFrames converted by pyarrow, anything
//! with `__arrow_c_stream__`) is imported without copying; string columns are read where they
//! are and other types are turned into text once, in Rust. Lists of dicts and columns of Python
//! values are converted cell by cell (they are Python objects already).

use arrow_array::cast::AsArray;
use arrow_array::types::{Float16Type, Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, LargeStringArray, StringArray, StringViewArray};
use arrow_schema::DataType;
use pseudolink::run::TextColumns;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyString};
use pyo3_arrow::PyTable;

use crate::errors::InputError;

/// One column of text cells.
pub enum TextArray {
    /// Arrow `utf8`.
    Utf8(StringArray),
    /// Arrow `large_utf8`.
    Large(LargeStringArray),
    /// Arrow `utf8_view`.
    View(StringViewArray),
    /// Converted from Python values.
    Owned(Vec<Option<String>>),
}

impl TextArray {
    fn get(&self, row: usize) -> Option<&str> {
        match self {
            TextArray::Utf8(a) => (!a.is_null(row)).then(|| a.value(row)),
            TextArray::Large(a) => (!a.is_null(row)).then(|| a.value(row)),
            TextArray::View(a) => (!a.is_null(row)).then(|| a.value(row)),
            TextArray::Owned(v) => v.get(row).and_then(Option::as_deref),
        }
    }
}

/// A batch of equal-length text columns.
pub struct Batch {
    rows: usize,
    columns: Vec<TextArray>,
}

impl TextColumns for Batch {
    fn rows(&self) -> usize {
        self.rows
    }
    fn cell(&self, column: usize, row: usize) -> Option<&str> {
        self.columns.get(column).and_then(|c| c.get(row))
    }
}

/// A whole input table: column names and batches.
pub struct Table {
    pub names: Vec<String>,
    pub batches: Vec<Batch>,
}

/// Imports an object with `__arrow_c_stream__` (holding the GIL; no data is copied).
pub fn import_arrow(data: &Bound<'_, PyAny>) -> PyResult<(Vec<String>, Vec<Vec<ArrayRef>>)> {
    let table: PyTable = data.extract().map_err(|e| {
        PyTypeError::new_err(format!(
            "expected an Arrow table (an object with __arrow_c_stream__): {e}"
        ))
    })?;
    let (batches, schema) = table.into_inner();
    let names = schema.fields().iter().map(|f| f.name().clone()).collect();
    let batches = batches.into_iter().map(|b| b.columns().to_vec()).collect();
    Ok((names, batches))
}

/// Turns imported Arrow columns into text columns (runs without the GIL).
pub fn arrow_to_text(
    names: Vec<String>,
    batches: Vec<Vec<ArrayRef>>,
) -> Result<Table, (String, String)> {
    let mut out = Vec::with_capacity(batches.len());
    for columns in batches {
        let rows = columns.first().map_or(0, |c| c.len());
        let columns = columns
            .iter()
            .zip(&names)
            .map(|(a, name)| to_text(a).map_err(|m| (name.clone(), m)))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Batch { rows, columns });
    }
    Ok(Table {
        names,
        batches: out,
    })
}

fn to_text(array: &ArrayRef) -> Result<TextArray, String> {
    let array = match array.data_type() {
        DataType::Utf8 => return Ok(TextArray::Utf8(array.as_string::<i32>().clone())),
        DataType::LargeUtf8 => return Ok(TextArray::Large(array.as_string::<i64>().clone())),
        DataType::Utf8View => return Ok(TextArray::View(array.as_string_view().clone())),
        DataType::Float16 => {
            return Ok(floats(
                array
                    .as_primitive::<Float16Type>()
                    .iter()
                    .map(|v| v.map(f64::from)),
            ))
        }
        DataType::Float32 => {
            return Ok(floats(
                array
                    .as_primitive::<Float32Type>()
                    .iter()
                    .map(|v| v.map(f64::from)),
            ))
        }
        DataType::Float64 => return Ok(floats(array.as_primitive::<Float64Type>().iter())),
        DataType::Dictionary(_, value) if is_float(value) => {
            let plain = arrow_cast::cast(array, value).map_err(|e| e.to_string())?;
            return to_text(&plain);
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            return Err("holds bytes, not text; decode it to strings first".into())
        }
        _ => arrow_cast::cast(array, &DataType::Utf8)
            .map_err(|e| format!("cannot be read as text ({}): {e}", array.data_type()))?,
    };
    Ok(TextArray::Utf8(array.as_string::<i32>().clone()))
}

fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64)
}

/// Floats as text: whole numbers without a fraction (pandas stores an integer column with missing
/// values as floats, and `9434765919.0` must read as the NHS number `9434765919`), NaN as null.
fn floats(values: impl Iterator<Item = Option<f64>>) -> TextArray {
    TextArray::Owned(values.map(|v| v.and_then(float_text)).collect())
}

/// Text of one float, `None` for NaN.
pub fn float_text(v: f64) -> Option<String> {
    if v.is_nan() {
        None
    } else if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        Some(format!("{}", v as i64))
    } else {
        Some(v.to_string())
    }
}

/// Text of one Python value: `None`, NaN, pandas' `NA` and `NaT` are missing; `str` as is; `int`
/// and whole `float`s as digits; dates and datetimes in ISO format; anything else by `str()`.
pub fn py_text(value: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if value.is_none() {
        return Ok(None);
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Some(s.to_cow()?.into_owned()));
    }
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Ok(Some(value.str()?.to_cow()?.into_owned()));
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(Some(value.str()?.to_cow()?.into_owned()));
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(float_text(f.value()));
    }
    let ty = value.get_type();
    let type_name = ty.name()?;
    let type_name = type_name.to_cow()?;
    if matches!(type_name.as_ref(), "NAType" | "NaTType") {
        return Ok(None);
    }
    if value.hasattr("isoformat")? {
        return Ok(Some(
            value
                .call_method0("isoformat")?
                .str()?
                .to_cow()?
                .into_owned(),
        ));
    }
    Ok(Some(value.str()?.to_cow()?.into_owned()))
}

/// A cell that is not valid Unicode (a lone surrogate) is an input error at its row and column,
/// counted as in a CSV export (the first row is line 2); other errors pass through.
fn cell_error(e: PyErr, row: usize, column: &str) -> PyErr {
    Python::attach(|py| {
        if !e.is_instance_of::<pyo3::exceptions::PyUnicodeError>(py) {
            return e;
        }
        let err = InputError::new_err(format!(
            "<input>, line {}, field '{column}': the value is not valid Unicode text ({})",
            row + 2,
            e.value(py)
        ));
        let value = err.value(py);
        let _ = value.setattr("line", row + 2);
        let _ = value.setattr("field", column);
        err
    })
}

/// A list of dicts (rows) as one batch: columns in order of first appearance; a key missing from
/// a row is a missing value.
pub fn records_to_table(rows: &Bound<'_, PyList>) -> PyResult<Table> {
    let mut names: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::<String, usize>::new();
    let mut columns: Vec<Vec<Option<String>>> = Vec::new();
    let n = rows.len();
    for (r, row) in rows.iter().enumerate() {
        let dict = row.cast::<PyDict>().map_err(|_| {
            PyTypeError::new_err(format!(
                "row {r} of the list is a {}, not a dict",
                row.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
        for (k, v) in dict.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| {
                    PyTypeError::new_err(format!("row {r} has a key that is not a string: {k}"))
                })?
                .to_cow()
                .map_err(|e| cell_error(e, r, "<key>"))?
                .to_string();
            let col = match index.get(&key) {
                Some(&c) => c,
                None => {
                    index.insert(key.clone(), names.len());
                    names.push(key);
                    columns.push(vec![None; n]);
                    columns.len() - 1
                }
            };
            columns[col][r] = py_text(&v).map_err(|e| cell_error(e, r, &names[col]))?;
        }
    }
    Ok(Table {
        names,
        batches: vec![Batch {
            rows: n,
            columns: columns.into_iter().map(TextArray::Owned).collect(),
        }],
    })
}

/// A dict of column name to sequence of values (e.g. `{c: df[c].tolist()}`) as one batch.
pub fn columns_to_table(columns: &Bound<'_, PyDict>) -> PyResult<Table> {
    let mut names = Vec::new();
    let mut out = Vec::new();
    let mut rows = None;
    for (k, v) in columns.iter() {
        let name = k.str()?.to_cow()?.into_owned();
        let mut cells = Vec::new();
        for (r, item) in v.try_iter()?.enumerate() {
            cells.push(py_text(&item?).map_err(|e| cell_error(e, r, &name))?);
        }
        match rows {
            None => rows = Some(cells.len()),
            Some(n) if n != cells.len() => {
                return Err(InputError::new_err(format!(
                    "column '{name}' has {} values where the first column has {n}",
                    cells.len()
                )))
            }
            Some(_) => {}
        }
        names.push(name);
        out.push(TextArray::Owned(cells));
    }
    Ok(Table {
        names,
        batches: vec![Batch {
            rows: rows.unwrap_or(0),
            columns: out,
        }],
    })
}
