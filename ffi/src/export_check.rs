//! Checks of the exported functions against the crate's sources and the committed header: every
//! `extern` function's body is exactly one `ffi_boundary!` invocation (see [`crate::panic`]), the
//! functions found are exactly those the header declares (so a function this scan could not see
//! fails too), and the header marks PL_DEPRECATED exactly those marked `#[deprecated]`.

use std::collections::BTreeSet;
use std::path::Path;

/// An exported function as the scan sees it.
#[derive(Debug)]
struct Export {
    name: String,
    /// Whether its body is one `ffi_boundary!` invocation and nothing else.
    bounded: bool,
    /// Whether it carries `#[deprecated]`.
    deprecated: bool,
}

/// `src` with the contents of comments, string and character literals replaced by spaces, byte
/// for byte (offsets stay those of `src`), so that braces, parentheses and words inside them are
/// not seen. Works for Rust and for the C header.
fn code_only(src: &str) -> Vec<u8> {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let (mut depth, mut j) = (1, i + 2);
                while j < b.len() && depth > 0 {
                    if b[j..].starts_with(b"/*") {
                        depth += 1;
                        j += 2;
                    } else if b[j..].starts_with(b"*/") {
                        depth -= 1;
                        j += 2;
                    } else {
                        j += 1;
                    }
                }
                blank(&mut out, i, j);
                i = j;
            }
            b'r' if raw_string(b, i).is_some() => {
                let (open, hashes) = raw_string(b, i).unwrap_or_default();
                let mut close = vec![b'"'];
                close.extend(std::iter::repeat_n(b'#', hashes));
                let end = b[open + 1..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map_or(b.len(), |n| open + 1 + n);
                blank(&mut out, open + 1, end);
                i = end + close.len();
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, i + 1, j);
                i = j + 1;
            }
            // A character literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            b'\'' => {
                let len = src[i + 1..].chars().next().map_or(0, char::len_utf8);
                if b.get(i + 1) == Some(&b'\\') {
                    let end = b[i + 2..]
                        .iter()
                        .position(|&c| c == b'\'')
                        .map_or(b.len(), |n| i + 2 + n);
                    blank(&mut out, i + 1, end);
                    i = end + 1;
                } else if b.get(i + 1 + len) == Some(&b'\'') {
                    blank(&mut out, i + 1, i + 1 + len);
                    i += len + 2;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// If a raw string (`r"..."`, `r#"..."#`, also after `b` or `c`) starts with the `r` at `i`: the
/// offset of its opening quote and its number of `#`.
fn raw_string(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let starts_token = |at: usize| at == 0 || !is_ident(b[at - 1]);
    let prefixed = i >= 1 && matches!(b[i - 1], b'b' | b'c') && starts_token(i - 1);
    if b[i] != b'r' || !(starts_token(i) || prefixed) {
        return None;
    }
    let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
    let open = i + 1 + hashes;
    (b.get(open) == Some(&b'"')).then_some((open, hashes))
}

/// The offset just past the group that opens at `open` (`{`, `(` or `[`), in code from
/// [`code_only`].
fn group_end(code: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, &c) in code.iter().enumerate().skip(open) {
        match c {
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Offsets of the word `word` in `code` (not part of a longer identifier).
fn words<'a>(code: &'a [u8], word: &'a str) -> impl Iterator<Item = usize> + 'a {
    (0..code.len()).filter(move |&i| {
        code[i..].starts_with(word.as_bytes())
            && (i == 0 || !is_ident(code[i - 1]))
            && !code.get(i + word.len()).is_some_and(|&c| is_ident(c))
    })
}

fn skip_space(code: &[u8], mut i: usize) -> usize {
    while code.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

fn identifier(code: &[u8], i: usize) -> &str {
    let end = code[i..]
        .iter()
        .position(|&c| !is_ident(c))
        .map_or(code.len(), |n| i + n);
    std::str::from_utf8(&code[i..end]).unwrap_or("")
}

/// The `extern` functions defined in `src` (one Rust file). Panics on an `extern` it cannot
/// read, so that an unusual form fails the check instead of escaping it.
fn exports(src: &str) -> Vec<Export> {
    let code = code_only(src);
    let mut found = Vec::new();
    for at in words(&code, "extern") {
        let mut i = skip_space(&code, at + "extern".len());
        if code[i] == b'"' {
            // The ABI string: its contents are blanked in `code`, read them from `src`.
            let close = src[i + 1..].find('"').expect("a closed ABI string") + i + 1;
            i = skip_space(&code, close + 1);
        }
        let keyword = identifier(&code, i);
        match keyword {
            "crate" => continue,
            "fn" => {}
            _ => panic!(
                "`extern` followed by `{keyword}` at byte {at}: the boundary check reads only \
                 `extern \"C\" fn` definitions"
            ),
        }
        let name_at = skip_space(&code, i + 2);
        let name = identifier(&code, name_at).to_string();
        let args = name_at
            + code[name_at..]
                .iter()
                .position(|&c| c == b'(')
                .expect("arguments");
        let args_end = group_end(&code, args).expect("closed arguments");
        let open = args_end
            + code[args_end..]
                .iter()
                .position(|&c| c == b'{' || c == b';')
                .expect("a body");
        assert_eq!(code[open], b'{', "`{name}` has no body");
        let close = group_end(&code, open).expect("a closed body") - 1;
        let body = &code[open + 1..close];
        let start = skip_space(body, 0);
        let bounded = body[start..].starts_with(b"ffi_boundary!") && {
            let group = skip_space(body, start + "ffi_boundary!".len());
            matches!(body.get(group), Some(b'{' | b'('))
                && group_end(body, group).is_some_and(|end| skip_space(body, end) == body.len())
        };
        // The attributes before `pub unsafe extern "C" fn`: back to the end of the previous item.
        let item_start = code[..at]
            .iter()
            .rposition(|&c| c == b'}' || c == b';')
            .map_or(0, |n| n + 1);
        let deprecated = words(&code[item_start..at], "deprecated").next().is_some();
        found.push(Export {
            name,
            bounded,
            deprecated,
        });
    }
    found
}

/// The functions `header` (C) declares (the `pl_` identifiers followed by `(`), each with
/// whether its declaration starts with `PL_DEPRECATED`.
fn declared(header: &str) -> Vec<(String, bool)> {
    let mut code = code_only(header);
    // Preprocessor lines (the definition of PL_DEPRECATED) are not declarations.
    let mut line_start = 0;
    for line in header.split_inclusive('\n') {
        if line.trim_start().starts_with('#') {
            code[line_start..line_start + line.len()].fill(b' ');
        }
        line_start += line.len();
    }
    let mut found = Vec::new();
    for i in 0..code.len() {
        if code[i..].starts_with(b"pl_") && (i == 0 || !is_ident(code[i - 1])) {
            let name = identifier(&code, i);
            if code.get(skip_space(&code, i + name.len())) == Some(&b'(') {
                let start = code[..i]
                    .iter()
                    .rposition(|&c| c == b';' || c == b'}')
                    .map_or(0, |n| n + 1);
                let deprecated = words(&code[start..i], "PL_DEPRECATED").next().is_some();
                found.push((name.to_string(), deprecated));
            }
        }
    }
    found
}

/// The exported functions of every source file of the crate.
fn crate_exports() -> Vec<Export> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("ffi/src") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let src = std::fs::read_to_string(&path).expect("a source file");
            all.extend(exports(&src));
        }
    }
    all
}

#[test]
fn every_exported_function_is_one_boundary() {
    let exports = crate_exports();
    let unbounded: Vec<&str> = exports
        .iter()
        .filter(|e| !e.bounded)
        .map(|e| e.name.as_str())
        .collect();
    assert!(
        unbounded.is_empty(),
        "the body of each exported function must be one `ffi_boundary! {{ ... }}` and nothing \
         else; these are not: {unbounded:?}"
    );
    let header =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/pseudolink.h"))
            .expect("include/pseudolink.h");
    let scanned: BTreeSet<String> = exports.iter().map(|e| e.name.clone()).collect();
    let declared = declared(&header);
    assert_eq!(
        scanned,
        declared.iter().map(|(name, _)| name.clone()).collect(),
        "the functions found in ffi/src differ from those pseudolink.h declares (run `make \
         header`, or teach this check the new form)"
    );
    assert_eq!(scanned.len(), exports.len(), "a function defined twice");
    assert_eq!(declared.len(), exports.len(), "a function declared twice");
    assert!(exports.len() >= 30, "{} functions found", exports.len());
}

#[test]
fn the_header_marks_the_deprecated_functions() {
    let header =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/pseudolink.h"))
            .expect("include/pseudolink.h");
    let marked: BTreeSet<String> = declared(&header)
        .into_iter()
        .filter(|(_, deprecated)| *deprecated)
        .map(|(name, _)| name)
        .collect();
    let deprecated: BTreeSet<String> = crate_exports()
        .into_iter()
        .filter(|e| e.deprecated)
        .map(|e| e.name)
        .collect();
    assert_eq!(marked, deprecated, "PL_DEPRECATED in pseudolink.h");
    assert!(!deprecated.is_empty());
}

#[test]
fn the_check_sees_a_missing_boundary() {
    let src = r##"
/// Comments with `extern "C" fn` and braces } are ignored.
#[no_mangle]
pub unsafe extern "C" fn pl_good(p: *const c_char) -> pl_result {
    ffi_boundary! {
        let s = "} extern \"C\" fn {";
        let r = r#"}"#;
        let c = '}';
        helper::<'static>(s, r, c)
    }
}

#[no_mangle]
#[deprecated(note = "use pl_good")]
pub extern "C" fn pl_bare() -> pl_result {
    boundary(|| Ok(()))
}

#[no_mangle]
pub extern "C" fn pl_after(x: u8) {
    ffi_boundary! { drop(x) }
    other();
}

#[no_mangle]
pub extern fn pl_default_abi() {
    // SAFETY: ...
    unsafe { free_handle(p) }
}
"##;
    let found: Vec<(String, bool, bool)> = exports(src)
        .into_iter()
        .map(|e| (e.name, e.bounded, e.deprecated))
        .collect();
    let want = [
        ("pl_good", true, false),
        ("pl_bare", false, true),
        ("pl_after", false, false),
        ("pl_default_abi", false, false),
    ];
    assert_eq!(
        found,
        want.map(|(n, b, d)| (n.to_string(), b, d)).to_vec(),
        "{src}"
    );
    let header = "#define PL_DEPRECATED(note) x\n/* pl_in_a_comment(x) */\nint pl_one(int a);\n\
                  PL_DEPRECATED(\"use pl_one()\")\nvoid pl_two(void);\nint pl_three(void);\n";
    let names = declared(header);
    let want = [("pl_one", false), ("pl_two", true), ("pl_three", false)];
    assert_eq!(names, want.map(|(n, d)| (n.to_string(), d)));
}
