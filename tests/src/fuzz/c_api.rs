//! The C entry points (`pl_*`, through `pseudolink_ffi`, the Rust library of `ffi/`) called the
//! way a C caller can call them: arbitrary bytes and lengths, NULL pointers, invalid UTF-8, a
//! wrong number of values, buffers too small.

use std::os::raw::c_char;
use std::ptr::{null, null_mut};

use pseudolink::internals::normalise::date::today_utc;
use pseudolink::{Encoder, Schema, Secret};
use pseudolink_ffi::encoder::{
    pl_encode_record, pl_encoder, pl_encoder_free, pl_encoder_new, pl_encoder_new_with_today,
};
use pseudolink_ffi::error::pl_last_error_message;
use pseudolink_ffi::pl_result::{self, *};
use pseudolink_ffi::schema::{
    pl_schema, pl_schema_fingerprint, pl_schema_free, pl_schema_from_json,
};
use pseudolink_ffi::secret::{pl_secret, pl_secret_free, pl_secret_from_bytes};

use super::{today, Bytes};

/// A length no slice may have (more than `isize::MAX` bytes): refused before any read.
const HUGE: usize = isize::MAX as usize + 1;

/// What a buffer holds before a call: every byte still equal to it afterwards was not written.
const FILL: u8 = 0xA5;

/// A value (0xF4 in the input) or secret bytes containing this must never show in a message:
/// messages name arguments, indices and columns, never contents. (Checking for every value
/// would take the fuzzer's own copies of message text for leaks.)
const MARKER: &str = "Zq7-private";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// What `*written` holds before a call.
const UNWRITTEN: usize = 0xDEAD_BEEF;

/// The handle value an `out` parameter holds before a call (never a real handle: not aligned for
/// one, so never returned by the allocator).
fn unset<T>() -> *mut T {
    std::ptr::without_provenance_mut(1)
}

/// A pointer and length as a C caller passes them.
#[derive(Clone, Copy)]
struct Arg<'a> {
    bytes: &'a [u8],
    null: bool,
    len: usize,
}

impl<'a> Arg<'a> {
    fn of(bytes: &'a [u8]) -> Self {
        Arg {
            bytes,
            null: false,
            len: bytes.len(),
        }
    }

    fn null(len: usize) -> Self {
        Arg {
            bytes: &[],
            null: true,
            len,
        }
    }

    /// A real pointer with a length too large for any slice.
    fn huge(bytes: &'a [u8]) -> Self {
        Arg {
            bytes,
            null: false,
            len: HUGE,
        }
    }

    fn ptr(&self) -> *const u8 {
        if self.null {
            null()
        } else {
            self.bytes.as_ptr()
        }
    }

    /// The code that checking this argument gives, or its bytes if it passes the pointer and
    /// length checks.
    fn check(&self) -> Result<&'a [u8], pl_result> {
        match (self.null, self.len) {
            (true, 0) => Ok(&[]),
            (true, _) => Err(PL_NULL_POINTER),
            (false, HUGE) => Err(PL_INVALID_ARGUMENT),
            (false, _) => Ok(self.bytes),
        }
    }

    /// As [`check`](Self::check), then UTF-8.
    fn check_str(&self) -> Result<&'a str, pl_result> {
        std::str::from_utf8(self.check()?).map_err(|_| PL_INVALID_UTF8)
    }
}

/// The last error message of this thread, read through `pl_last_error_message` with its own
/// too-small protocol: a size query first, then a buffer of exactly that size.
fn last_error_message() -> String {
    let mut needed = UNWRITTEN;
    // SAFETY: NULL buffer with length 0 (a size query) and a valid `written`.
    let r = unsafe { pl_last_error_message(null_mut(), 0, &mut needed) };
    match r {
        PL_OK => {
            assert_eq!(needed, 0, "an empty message fits a zero-length buffer");
            return String::new();
        }
        PL_BUFFER_TOO_SMALL => assert!(needed > 0 && needed != UNWRITTEN, "{needed}"),
        other => panic!("pl_last_error_message gave {other:?}"),
    }
    if needed > 1 {
        let mut small = vec![FILL; needed - 1];
        let mut w = UNWRITTEN;
        // SAFETY: `small` is valid for `small.len()` bytes of writes.
        let r = unsafe { pl_last_error_message(small.as_mut_ptr().cast(), small.len(), &mut w) };
        assert_eq!((r, w), (PL_BUFFER_TOO_SMALL, needed), "one byte short");
        assert!(small.iter().all(|&b| b == FILL), "written when too small");
    }
    let mut buf = vec![FILL; needed + 3];
    let mut w = UNWRITTEN;
    // SAFETY: `buf` is valid for `needed` bytes of writes.
    let r = unsafe { pl_last_error_message(buf.as_mut_ptr().cast(), needed, &mut w) };
    assert_eq!((r, w), (PL_OK, needed), "the size reported is enough");
    assert!(
        buf[needed..].iter().all(|&b| b == FILL),
        "written past the end"
    );
    buf.truncate(needed);
    String::from_utf8(buf).expect("the message is UTF-8")
}

/// After a call that gave `r`: success leaves no message, an error leaves one.
fn check_message(r: pl_result, call: &str) -> String {
    assert_ne!(r, PL_PANIC, "{call} panicked: {}", last_error_message());
    let m = last_error_message();
    if r == PL_OK {
        assert!(m.is_empty(), "{call} succeeded but left the message {m:?}");
    } else {
        assert!(!m.is_empty(), "{call} gave {r:?} without a message");
    }
    m
}

/// `pl_schema_from_json` on `arg` (and an `out` that may be NULL): the code is the one the checks
/// and the core parser give, and `*out` is written only on success. The schema, if made.
fn schema_from_json(arg: Arg<'_>, null_out: bool) -> Option<(*mut pl_schema, Schema)> {
    let expected = arg.check_str().and_then(|s| {
        if null_out {
            Err(PL_NULL_POINTER)
        } else {
            Schema::from_json(s).map_err(|_| PL_SCHEMA_ERROR)
        }
    });
    let mut out = unset::<pl_schema>();
    let out_ptr: *mut *mut pl_schema = if null_out { null_mut() } else { &mut out };
    // SAFETY: the pointer is NULL or `arg.bytes`, valid for `arg.len` bytes unless the length is
    // HUGE, which the library refuses before any read; `out_ptr` is NULL or valid.
    let r = unsafe { pl_schema_from_json(arg.ptr().cast(), arg.len, out_ptr) };
    check_message(r, "pl_schema_from_json");
    match expected {
        Ok(core) => {
            assert_eq!(r, PL_OK, "a schema the core accepts");
            assert!(!out.is_null() && out != unset(), "no schema stored");
            let mut fp = [0u8; 64];
            let mut w = UNWRITTEN;
            // SAFETY: a live schema, a 64-byte buffer, a valid `written`.
            let r = unsafe { pl_schema_fingerprint(out, fp.as_mut_ptr().cast(), fp.len(), &mut w) };
            assert_eq!(r, PL_OK);
            assert_eq!(
                &fp[..w],
                core.fingerprint().as_str().as_bytes(),
                "same schema as the core's"
            );
            Some((out, core))
        }
        Err(code) => {
            assert_eq!(r, code, "pl_schema_from_json");
            assert_eq!(out, unset(), "*out written on failure");
            None
        }
    }
}

/// `pl_secret_from_bytes` on `arg`: the code is the one the checks and the core give, and `*out`
/// is written only on success.
fn secret_from_bytes(arg: Arg<'_>) -> Option<(*mut pl_secret, Secret)> {
    let expected = arg
        .check()
        .and_then(|b| Secret::from_bytes(b).map_err(|_| PL_SECRET_ERROR));
    let mut out = unset::<pl_secret>();
    // SAFETY: as in `schema_from_json`.
    let r = unsafe { pl_secret_from_bytes(arg.ptr(), arg.len, &mut out) };
    let m = check_message(r, "pl_secret_from_bytes");
    if contains(arg.bytes, MARKER.as_bytes()) {
        assert!(
            !m.contains(MARKER),
            "the secret's bytes are in the message {m:?}"
        );
    }
    match expected {
        Ok(core) => {
            assert_eq!(r, PL_OK, "pl_secret_from_bytes");
            assert!(!out.is_null() && out != unset());
            Some((out, core))
        }
        Err(code) => {
            assert_eq!(r, code, "pl_secret_from_bytes");
            assert_eq!(out, unset(), "*out written on failure");
            None
        }
    }
}

/// A value of one record, as the next input bytes describe it: a length byte below 0xF0 and that
/// many bytes (any bytes: invalid UTF-8 too), or a special case.
fn value<'a>(b: &mut Bytes<'a>, i: usize) -> Arg<'a> {
    const ROW: [&str; 9] = [
        "A1",
        "John",
        "",
        "Smith",
        "1980-01-02",
        "M",
        "CV1 2AB",
        "1 High St",
        "9434765919",
    ];
    match b.byte() {
        n @ 0..=0xEF => Arg::of(b.take(usize::from(n))),
        0xF0 => Arg::null(0),
        0xF1 => Arg::null(usize::from(b.byte()) + 1),
        0xF2 => Arg::huge(b"x"),
        0xF3 => Arg::null(usize::MAX),
        0xF4 => Arg::of(MARKER.as_bytes()),
        _ => Arg::of(ROW[i % ROW.len()].as_bytes()),
    }
}

/// One `pl_encode_record` call, driven by the next input bytes, checked against a model of the
/// documented argument checks and against the core encoder's row (`core`).
fn encode_one(b: &mut Bytes<'_>, encoder: *const pl_encoder, core: &Encoder, width: usize) {
    let mode = b.byte();
    let n = if mode & 0x80 == 0x80 {
        usize::from(b.byte())
    } else {
        width
    };
    let null_values = mode & 0x10 == 0x10 && mode & 0x08 == 0;
    let null_lengths = mode & 0x18 == 0x18;
    let null_written = mode & 0x07 == 0x07;
    // Buffer: 4096 bytes (any row of the default schema fits), a small one, a size query
    // (NULL, 0), or NULL with a length.
    let (buf_len, null_buf) = match (mode >> 5) & 3 {
        0 => (4096, false),
        1 => (usize::from(b.byte() % 64), false),
        2 => (0, true),
        _ => (usize::from(b.byte()) + 1, true),
    };
    let args: Vec<Arg<'_>> = (0..n).map(|i| value(b, i)).collect();
    let ptrs: Vec<*const c_char> = args.iter().map(|a| a.ptr().cast()).collect();
    let lens: Vec<usize> = args.iter().map(|a| a.len).collect();

    // The model: the documented checks, in order, then the core encoder.
    let expected: Result<Vec<u8>, pl_result> = (|| {
        if null_values || null_lengths || null_written || (null_buf && buf_len != 0) {
            return Err(PL_NULL_POINTER);
        }
        if n != width {
            return Err(PL_INVALID_ARGUMENT);
        }
        let strs = args
            .iter()
            .map(Arg::check_str)
            .collect::<Result<Vec<&str>, pl_result>>()?;
        let (record, _) = core
            .encode_values(&strs, &mut core.scratch())
            .map_err(|_| PL_INVALID_ARGUMENT)?;
        let mut row = Vec::new();
        record.write_csv_row(core.layout(), &mut row);
        Ok(row)
    })();

    let call = |buf: &mut Vec<u8>, len: usize, null_buf: bool| -> (pl_result, usize) {
        let mut w = UNWRITTEN;
        let buf_ptr: *mut c_char = if null_buf {
            null_mut()
        } else {
            buf.as_mut_ptr().cast()
        };
        let values_ptr = if null_values { null() } else { ptrs.as_ptr() };
        let lengths_ptr = if null_lengths { null() } else { lens.as_ptr() };
        let w_ptr: *mut usize = if null_written { null_mut() } else { &mut w };
        // SAFETY: `values` and `lengths` are NULL or arrays of `n` elements; each value is NULL
        // or valid for its length, except HUGE lengths, which the library refuses before any
        // read; `buf` is NULL or valid for `len` bytes; `written` is NULL or valid.
        let r =
            unsafe { pl_encode_record(encoder, values_ptr, lengths_ptr, n, buf_ptr, len, w_ptr) };
        (r, w)
    };
    let mut buf = vec![FILL; buf_len.max(1)];
    let (r, w) = call(&mut buf, buf_len, null_buf);
    let message = check_message(r, "pl_encode_record");
    let row = match expected {
        Err(code) => {
            assert_eq!(r, code, "pl_encode_record");
            assert_eq!(w, UNWRITTEN, "*written set on failure");
            assert!(buf.iter().all(|&x| x == FILL), "buffer written on failure");
            // The message names an index and a column, never a value's contents (unless a
            // column is named like the marker).
            let named = core
                .schema()
                .input_columns()
                .iter()
                .any(|c| c.contains(MARKER));
            if !named && args.iter().any(|a| contains(a.bytes, MARKER.as_bytes())) {
                assert!(
                    !message.contains(MARKER),
                    "a value is in the message {message:?}"
                );
            }
            return;
        }
        Ok(row) => row,
    };
    if row.len() > buf_len {
        // Too small: the size needed, nothing written; that size then succeeds.
        assert_eq!(
            (r, w),
            (PL_BUFFER_TOO_SMALL, row.len()),
            "too-small protocol"
        );
        assert!(
            buf.iter().all(|&x| x == FILL),
            "buffer written when too small"
        );
        let mut exact = vec![FILL; w + 1];
        let (r2, w2) = call(&mut exact, w, false);
        check_message(r2, "pl_encode_record");
        assert_eq!((r2, w2), (PL_OK, row.len()), "the size reported is enough");
        assert_eq!(&exact[..w2], &row[..], "the core encoder's row");
        assert_eq!(exact[w2], FILL, "written past the end");
    } else {
        assert_eq!((r, w), (PL_OK, row.len()), "pl_encode_record");
        assert_eq!(&buf[..w], &row[..], "the core encoder's row");
        assert!(buf[w..].iter().all(|&x| x == FILL), "written past the row");
        // Deterministic: the same call again (with the encoder's pooled working memory now
        // reused) gives the same bytes.
        let mut again = vec![FILL; buf_len.max(1)];
        let (r2, w2) = call(&mut again, buf_len, false);
        assert_eq!((r2, w2), (PL_OK, w));
        assert_eq!(again[..w2], buf[..w], "encoding is deterministic");
    }
}

/// The C entry points on arbitrary arguments: a schema from arbitrary bytes (NULL, invalid
/// UTF-8, invalid JSON), a secret of arbitrary length, an encoder (NULL handles refused), then
/// up to 8 records through `pl_encode_record` with arbitrary values and lengths (NULL with and
/// without a length, lengths too large for any slice, invalid UTF-8), a wrong `n_values`, NULL
/// arrays, and buffers too small or NULL. No call panics; each gives the code the documented
/// argument checks and the core give, writes its outputs only on success, and leaves a last
/// error message exactly when it fails (read with `pl_last_error_message` and its own too-small
/// protocol); a too-small buffer gets the size needed, and that size then succeeds; encoded rows
/// are deterministic and equal to the core encoder's.
///
/// Input: a schema byte (mostly the example schema; or raw bytes with a 16-bit length, NULL
/// with a length, a NULL `out`, a prefix of the example), a secret byte (the test secret; or raw
/// bytes with a length, NULL with a length, a length too large), an encoder byte (follows
/// today's date, a fixed date, or a NULL argument), then records: a mode byte (bit 7 a
/// `n_values` byte follows; bits 5-6 the buffer; bits 0-4 NULL arrays or `written`) and per
/// value a length byte and its bytes (0xF0-0xF3 NULL or too-large lengths, 0xF4 a marked value,
/// above that a value of a plausible row).
pub fn c_api(data: &[u8]) {
    let mut b = Bytes::new(data);
    let example = Schema::example_json().as_bytes();

    let s = b.byte();
    let made = match s % 8 {
        4 => {
            let n = usize::from(b.byte()) * 256 + usize::from(b.byte());
            schema_from_json(Arg::of(b.take(n)), false)
        }
        5 => schema_from_json(Arg::null(usize::from(b.byte())), false),
        6 => schema_from_json(Arg::of(example), true),
        7 => {
            let n = usize::from(b.byte()) * 256 + usize::from(b.byte());
            schema_from_json(Arg::of(&example[..n.min(example.len())]), false)
        }
        _ => schema_from_json(Arg::of(example), false),
    };
    // Without a schema of its own, the example (so that every input reaches the encoder).
    let (schema, core_schema) = made
        .or_else(|| schema_from_json(Arg::of(example), false))
        .expect("the example schema");

    let test_secret: Vec<u8> = (0..crate::TEST_SECRET_HEX.len() / 2)
        .map(|i| u8::from_str_radix(&crate::TEST_SECRET_HEX[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    let k = b.byte();
    let made = match k % 4 {
        2 => {
            let n = usize::from(b.byte() % 65);
            secret_from_bytes(Arg::of(b.take(n)))
        }
        3 => match b.byte() {
            255 => secret_from_bytes(Arg::null(usize::MAX)),
            254 => secret_from_bytes(Arg::huge(b"0123456789")),
            n => secret_from_bytes(Arg::null(usize::from(n))),
        },
        _ => secret_from_bytes(Arg::of(&test_secret)),
    };
    let (sec, core_secret) = made
        .or_else(|| secret_from_bytes(Arg::of(&test_secret)))
        .expect("the test secret");

    let e = b.byte();
    let fixed = e % 8 == 3;
    // First, for some inputs, one call with a NULL argument.
    let null_arg = e % 8;
    if null_arg < 3 {
        let (null_schema, null_secret, null_out) = (null_arg == 0, null_arg == 1, null_arg == 2);
        let mut out = unset::<pl_encoder>();
        let out_ptr: *mut *mut pl_encoder = if null_out { null_mut() } else { &mut out };
        let sc = if null_schema {
            null()
        } else {
            schema.cast_const()
        };
        let se = if null_secret {
            null()
        } else {
            sec.cast_const()
        };
        // SAFETY: NULL or live handles; `out_ptr` NULL or valid.
        let r = unsafe { pl_encoder_new(sc, se, out_ptr) };
        check_message(r, "pl_encoder_new");
        assert_eq!(r, PL_NULL_POINTER, "pl_encoder_new with a NULL argument");
        assert_eq!(out, unset(), "*out written on failure");
    }
    let mut encoder = unset::<pl_encoder>();
    let (r, day) = if fixed {
        let (y, m, d) = crate::VECTOR_TODAY;
        // SAFETY: live handles and a valid `out`.
        let r = unsafe { pl_encoder_new_with_today(schema, sec, y, m, d, &mut encoder) };
        (r, today())
    } else {
        let day = today_utc();
        // SAFETY: live handles and a valid `out`.
        (unsafe { pl_encoder_new(schema, sec, &mut encoder) }, day)
    };
    check_message(r, "pl_encoder_new");
    assert_eq!(r, PL_OK, "pl_encoder_new");
    assert!(!encoder.is_null() && encoder != unset());
    // The encoder keeps what it needs: the schema and secret may go now.
    // SAFETY: live handles, freed once.
    unsafe {
        pl_schema_free(schema);
        pl_secret_free(sec);
    }

    let core = Encoder::with_today(&core_schema, &core_secret, day);
    let width = core_schema.fields.len() + 1;
    for _ in 0..8 {
        if b.is_empty() {
            break;
        }
        // An encoder that follows the date is rebuilt when the UTC day changes: compare with the
        // core only while the day is the same.
        if !fixed && today_utc() != day {
            break;
        }
        encode_one(&mut b, encoder, &core, width);
    }
    // SAFETY: a live encoder, freed once.
    unsafe { pl_encoder_free(encoder) };
}
