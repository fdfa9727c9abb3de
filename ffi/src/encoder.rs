//! `pl_encoder`: encodes records under one schema and secret.

use std::os::raw::c_char;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use pseudolink::internals::encode::Scratch;
use pseudolink::internals::normalise::date::{today_utc, Date};
use pseudolink::{Encoder, Schema, Secret};

use crate::error::{pl_result, Failure};
use crate::ffi::{
    free_handle, handle_arg, into_handle, out_arg, out_buf, out_ref, slice_arg, utf8, write_bytes,
};
use crate::panic::ffi_boundary;
use crate::schema::pl_schema;
use crate::secret::pl_secret;

/// Encodes records under one schema and secret (its keys are derived once, when it is made).
/// Immutable from the caller's side: one encoder may be used by several threads at once, and
/// sharing one is cheaper than making one per thread. Free it with `pl_encoder_free`.
#[allow(non_camel_case_types)]
pub struct pl_encoder {
    schema: Schema,
    /// `Some` for an encoder that follows the UTC date: the secret is kept to rebuild the
    /// normalisers when the day changes. `None` for an encoder fixed to one date.
    follow_today: Option<Secret>,
    current: RwLock<Arc<Dated>>,
}

/// The core encoder for one "today" (dates after it are implausible), with a pool of working
/// memory ([`Scratch`]) so that single-record calls keep their Bloom filter position caches.
pub(crate) struct Dated {
    today: Date,
    // Field order matters: `pool` borrows from `encoder` and is dropped first.
    pool: Mutex<Vec<Worker>>,
    // Boxed so that its address is stable for the borrows in `pool`.
    encoder: Box<Encoder>,
}

/// Working memory of one call: the core's scratch and a row buffer.
struct Worker {
    scratch: Scratch<'static>,
    row: Vec<u8>,
}

// The handles are documented as shareable between threads: make the compiler check it.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<pl_encoder>();
    shareable::<pl_schema>();
    shareable::<pl_secret>();
};

/// Most idle scratches kept per encoder (one per thread that used it concurrently, at most this).
const MAX_POOLED: usize = 64;

impl Dated {
    fn new(schema: &Schema, secret: &Secret, today: Date) -> Dated {
        Dated {
            today,
            pool: Mutex::new(Vec::new()),
            encoder: Box::new(Encoder::with_today(schema, secret, today)),
        }
    }

    /// The core encoder.
    pub(crate) fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// Runs `f` with working memory from the pool (or new), then returns it to the pool.
    fn with_worker<T>(&self, f: impl FnOnce(&Encoder, &mut Scratch<'_>, &mut Vec<u8>) -> T) -> T {
        let pooled = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut worker = match pooled {
            Some(w) => w,
            None => {
                let s: Scratch<'_> = self.encoder.scratch();
                // SAFETY: the scratch borrows from `*self.encoder`, a heap allocation owned by
                // `self` that never moves and is never mutated or freed while `self` lives. The
                // scratch is only ever stored in `self.pool` (dropped before `self.encoder`, by
                // field order) or held in this function while `self` is borrowed, so no
                // reference outlives the encoder. `Scratch` is covariant in its lifetime, so only
                // the lifetime changes.
                let scratch = unsafe { std::mem::transmute::<Scratch<'_>, Scratch<'static>>(s) };
                Worker {
                    scratch,
                    row: Vec::with_capacity(4096),
                }
            }
        };
        // A panic in `f` drops the worker (it may be half-updated) instead of pooling it.
        worker.row.clear();
        let value = f(&self.encoder, &mut worker.scratch, &mut worker.row);
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < MAX_POOLED {
            pool.push(worker);
        }
        value
    }
}

impl pl_encoder {
    fn new(schema: &Schema, secret: &Secret, fixed: Option<Date>) -> pl_encoder {
        let today = fixed.unwrap_or_else(today_utc);
        pl_encoder {
            schema: schema.clone(),
            follow_today: match fixed {
                Some(_) => None,
                None => Some(secret.clone()),
            },
            current: RwLock::new(Arc::new(Dated::new(schema, secret, today))),
        }
    }

    /// The core encoder for today's date. An encoder that follows the date is rebuilt (once, by
    /// the first caller to notice) when the UTC day has changed since it was last used, so a
    /// long-running process never judges a new date of birth as being in the future.
    pub(crate) fn current(&self) -> Arc<Dated> {
        self.current_on(today_utc)
    }

    /// [`current`](Self::current) with the clock passed in (for tests).
    fn current_on(&self, clock: impl Fn() -> Date) -> Arc<Dated> {
        let cur = Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner));
        let Some(secret) = &self.follow_today else {
            return cur;
        };
        let today = clock();
        if cur.today == today {
            return cur;
        }
        let mut slot = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if slot.today != today {
            *slot = Arc::new(Dated::new(&self.schema, secret, today));
        }
        Arc::clone(&slot)
    }
}

/// Makes an encoder for `schema` under `secret`. Dates of birth after today's UTC date are
/// treated as implausible (missing); the encoder follows the date, so one made at start-up stays
/// right in a process that runs for months. The encoder keeps what it needs: the schema and the
/// secret may be freed as soon as this returns. On success stores a new encoder in `*out`; free
/// it with `pl_encoder_free`.
///
/// # Safety
///
/// `schema` and `secret` must be NULL or live handles; `out` must be NULL or valid for writing a
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn pl_encoder_new(
    schema: *const pl_schema,
    secret: *const pl_secret,
    out: *mut *mut pl_encoder,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both are NULL or live handles.
        let (schema, secret) =
            unsafe { (handle_arg(schema, "schema")?, handle_arg(secret, "secret")?) };
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        let out = unsafe { out_arg(out, "out") }?;
        out.set(into_handle(pl_encoder::new(
            &schema.inner,
            &secret.inner,
            None,
        )));
        Ok(())
    }
}

/// Like `pl_encoder_new`, but dates after the fixed date `year`-`month`-`day` (not today's) are
/// implausible: for reproducible results, e.g. checking the golden vectors. An impossible date
/// is `PL_INVALID_ARGUMENT`.
///
/// # Safety
///
/// As `pl_encoder_new`.
#[no_mangle]
pub unsafe extern "C" fn pl_encoder_new_with_today(
    schema: *const pl_schema,
    secret: *const pl_secret,
    year: u16,
    month: u8,
    day: u8,
    out: *mut *mut pl_encoder,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both are NULL or live handles.
        let (schema, secret) =
            unsafe { (handle_arg(schema, "schema")?, handle_arg(secret, "secret")?) };
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        let out = unsafe { out_arg(out, "out") }?;
        let today = Date::new(year, month, day).ok_or_else(|| {
            Failure::invalid(format!(
                "{year:04}-{month:02}-{day:02} is not a date (year 1 to 9999)"
            ))
        })?;
        out.set(into_handle(pl_encoder::new(
            &schema.inner,
            &secret.inner,
            Some(today),
        )));
        Ok(())
    }
}

/// Frees an encoder and wipes its keys. NULL is a no-op.
///
/// # Safety
///
/// `encoder` must be NULL or an encoder from this library that has not been freed, and no other
/// thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn pl_encoder_free(encoder: *mut pl_encoder) {
    ffi_boundary! {
        // SAFETY: the caller guarantees `encoder` is NULL or a live, unshared handle.
        unsafe { free_handle(encoder) }
    }
}

/// Writes the header line of the encoded extract (the column names, comma-separated, no
/// newline; not NUL-terminated) into `buf` and its length into `*written`: the first line of
/// what `pl_encode_file` and `pseudolink encode` write. Buffer too small: `PL_BUFFER_TOO_SMALL`
/// with `*written` set to the size needed.
///
/// # Safety
///
/// `encoder` must be NULL or a live encoder; `buf` must be NULL or valid for writes of `buf_len`
/// bytes; `written` must be NULL or valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pl_encoder_header(
    encoder: *const pl_encoder,
    buf: *mut c_char,
    buf_len: usize,
    written: *mut usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `encoder` is NULL or a live handle.
        let encoder = unsafe { handle_arg(encoder, "encoder") }?;
        // SAFETY: the caller guarantees `written` is NULL or valid for writes.
        let written = unsafe { out_ref(written, "written") }?;
        let header = encoder.current().encoder().layout().header().join(",");
        // SAFETY: the caller guarantees `buf` is NULL or valid for `buf_len` bytes.
        unsafe { write_bytes(header.as_bytes(), buf, buf_len, written) }
    }
}

/// Encodes one record. `values[i]` / `lengths[i]` (UTF-8, not NUL-terminated) are the schema's
/// input columns in schema order, record id first (see `pl_schema_input_column`); `n_values`
/// must equal `pl_schema_input_column_count`. An empty value, or a NULL value with length 0
/// (an SQL NULL), is a missing value; the record id must not be empty.
///
/// Writes the encoded row exactly as `pseudolink encode` writes it (no header, no newline, not
/// NUL-terminated) into `buf` and its length into `*written`. If `buf_len` is too small, returns
/// `PL_BUFFER_TOO_SMALL`, sets `*written` to the size needed and writes nothing to `buf`; a
/// 4096-byte buffer holds any row of the default schema. Values that cannot be normalised (an
/// impossible date, an invalid postcode) are encoded as missing, as `pseudolink encode` does.
/// Errors: `PL_NULL_POINTER`, `PL_INVALID_UTF8` and `PL_INVALID_ARGUMENT` (wrong `n_values`,
/// empty record id); the message names the value's index and column, never its contents.
///
/// # Safety
///
/// `encoder` must be NULL or a live encoder; `values` and `lengths` must be NULL or valid for
/// reads of `n_values` elements, and each `values[i]` NULL or valid for reads of `lengths[i]`
/// bytes; `buf` must be NULL or valid for writes of `buf_len` bytes; `written` must be NULL or
/// valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_record(
    encoder: *const pl_encoder,
    values: *const *const c_char,
    lengths: *const usize,
    n_values: usize,
    buf: *mut c_char,
    buf_len: usize,
    written: *mut usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `encoder` is NULL or a live handle.
        let encoder = unsafe { handle_arg(encoder, "encoder") }?;
        if values.is_null() {
            return Err(Failure::null("values"));
        }
        if lengths.is_null() {
            return Err(Failure::null("lengths"));
        }
        // SAFETY: the caller guarantees `written` is NULL or valid for writes.
        let written = unsafe { out_ref(written, "written") }?;
        // SAFETY: the caller guarantees `buf` is NULL or valid for `buf_len` bytes.
        let buf = unsafe { out_buf(buf, buf_len, "buf") }?;
        // The count is checked before the arrays are looked at: a wrong count may mean the
        // arrays are shorter than `n_values`.
        let expected = encoder.schema.fields.len() + 1;
        if n_values != expected {
            return Err(Failure::invalid(format!(
                "n_values is {n_values} but the schema has {expected} input columns (record id and {} fields)",
                expected - 1
            )));
        }
        // SAFETY: the caller guarantees both arrays are valid for `n_values` reads.
        let (values, lengths) = unsafe {
            (
                slice_arg(values, n_values, "values")?,
                slice_arg(lengths, n_values, "lengths")?,
            )
        };
        // The values as `&str`, on the stack for any usual schema.
        let mut small = [""; 32];
        let mut large = Vec::new();
        let strs: &mut [&str] = match small.get_mut(..n_values) {
            Some(s) => s,
            None => {
                large.resize(n_values, "");
                &mut large
            }
        };
        for (i, ((&ptr, &len), slot)) in values.iter().zip(lengths).zip(strs.iter_mut()).enumerate()
        {
            // SAFETY: the caller guarantees `values[i]` is NULL or valid for `lengths[i]` reads.
            let bytes = unsafe { slice_arg(ptr.cast::<u8>(), len, "values[i]") }
                .map_err(|f| value_failure(f, i, &encoder.schema))?;
            *slot = utf8(bytes, "values[i]").map_err(|f| value_failure(f, i, &encoder.schema))?;
        }
        encoder.current().with_worker(|core, scratch, row| {
            let (record, _missing) = core.encode_values(strs, scratch)?;
            record.write_csv_row(core.layout(), row);
            buf.put(row, written)
        })
    }
}

/// Renames a value's failure to name its index and column (never its contents).
fn value_failure(f: Failure, index: usize, schema: &Schema) -> Failure {
    let column = schema
        .input_columns()
        .get(index)
        .map(|c| format!(" (column '{c}')"))
        .unwrap_or_default();
    let what = match f.code {
        pl_result::PL_NULL_POINTER => "is NULL with a non-zero length".to_string(),
        pl_result::PL_INVALID_UTF8 => match f.message.rfind("(at byte") {
            Some(at) => format!("is not valid UTF-8 {}", &f.message[at..]),
            None => "is not valid UTF-8".to_string(),
        },
        _ => return f,
    };
    Failure::new(f.code, format!("values[{index}]{column} {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: u16, m: u8, d: u8) -> Date {
        Date::new(y, m, d).unwrap()
    }

    fn encode(dated: &Dated, dob: &str) -> Vec<u8> {
        let values = ["r1", "Ann", "", "Lee", dob, "F", "CV1 2AB", "", ""];
        dated.with_worker(|core, scratch, row| {
            let (record, _) = core.encode_values(&values, scratch).unwrap();
            record.write_csv_row(core.layout(), row);
            row.clone()
        })
    }

    #[test]
    fn an_encoder_that_follows_the_date_is_rebuilt_when_the_day_changes() {
        let schema = Schema::example();
        let secret = Secret::from_bytes(&[3u8; 32]).unwrap();
        let e = pl_encoder::new(&schema, &secret, None);
        let monday = e.current_on(|| date(2030, 6, 3));
        assert_eq!(monday.today, date(2030, 6, 3));
        let same_day = e.current_on(|| date(2030, 6, 3));
        assert!(Arc::ptr_eq(&monday, &same_day), "no rebuild within a day");
        // A child born on Tuesday is implausible (missing) to Monday's encoder, not Tuesday's.
        let tuesday = e.current_on(|| date(2030, 6, 4));
        assert_eq!(tuesday.today, date(2030, 6, 4));
        assert_ne!(
            encode(&monday, "2030-06-04"),
            encode(&tuesday, "2030-06-04")
        );
        assert_eq!(encode(&tuesday, "2030-06-04"), {
            let fixed = pl_encoder::new(&schema, &secret, Some(date(2030, 6, 4)));
            encode(&fixed.current(), "2030-06-04")
        });
        // Earlier dates encode alike on both days.
        assert_eq!(
            encode(&monday, "2014-03-09"),
            encode(&tuesday, "2014-03-09")
        );
    }

    #[test]
    fn an_encoder_with_a_fixed_date_never_changes() {
        let schema = Schema::example();
        let secret = Secret::from_bytes(&[3u8; 32]).unwrap();
        let e = pl_encoder::new(&schema, &secret, Some(date(2026, 1, 1)));
        assert!(e.follow_today.is_none(), "keeps no secret");
        let a = e.current_on(|| date(2031, 1, 1));
        assert_eq!(a.today, date(2026, 1, 1));
    }

    #[test]
    fn pooled_working_memory_gives_the_same_rows_as_fresh() {
        let schema = Schema::example();
        let secret = Secret::from_bytes(&[5u8; 32]).unwrap();
        let e = pl_encoder::new(&schema, &secret, Some(date(2026, 1, 1)));
        let dated = e.current();
        let first = encode(&dated, "09/03/2014");
        for _ in 0..3 {
            assert_eq!(encode(&dated, "09/03/2014"), first);
        }
        let fresh = Encoder::with_today(&schema, &secret, date(2026, 1, 1));
        let values = ["r1", "Ann", "", "Lee", "09/03/2014", "F", "CV1 2AB", "", ""];
        let (record, _) = fresh.encode_values(&values, &mut fresh.scratch()).unwrap();
        let mut row = Vec::new();
        record.write_csv_row(fresh.layout(), &mut row);
        assert_eq!(row, first);
        assert_eq!(dated.pool.lock().unwrap().len(), 1, "one worker reused");
    }

    #[test]
    fn a_panic_inside_the_encoder_leaves_it_usable() {
        let schema = Schema::example();
        let secret = Secret::from_bytes(&[5u8; 32]).unwrap();
        let e = pl_encoder::new(&schema, &secret, Some(date(2026, 1, 1)));
        let dated = e.current();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            dated.with_worker(|_, _, _| -> () { panic!("boom") })
        }));
        assert!(caught.is_err());
        assert_eq!(encode(&dated, "2014-03-09"), encode(&dated, "2014-03-09"));
    }
}
