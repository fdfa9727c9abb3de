//! The dependency graph among the files of `core/src/link` and of `core/src/run` must have no
//! cycle: each file may use only files below it, and no file may use its directory's `mod.rs`
//! (which declares and re-exports them all, so stands above every one).
//!
//! A file's dependencies are read from its code (comments, strings and character literals
//! blanked): every `super::` path (taking the depth of inline `mod x { ... }` blocks into account,
//! so `super::super::em` in a file's `mod tests` is the sibling `em`, and `super::item` inside
//! `dice.rs`'s `mod x86` is `dice.rs` itself), with `use super::{a, b::c}` groups, and every
//! `crate::link::` / `crate::run::` path. A path naming a sibling file is an edge to it; any other
//! (`super::Band`, `super::*`, `super::{self, ...}`) is an edge to `mod.rs`. Test code is left
//! out, both the inline `#[cfg(test)] mod tests { ... }` of a file and the files that `mod.rs`
//! declares only under `#[cfg(test)]` (the tests, the reference implementation): tests sit on top
//! of everything and may use the directory's re-exports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `text` with comments, string literals and character literals replaced by spaces (newlines
/// kept), so that braces and paths in them are not read as code.
fn blank(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let wipe = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in out.iter_mut().take(to.min(b.len())).skip(from) {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(b.len(), |e| i + e);
                wipe(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                wipe(&mut out, i, end);
                i = end;
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let start = i + 2 + hashes;
                let end = text[start..]
                    .find(&close)
                    .map_or(b.len(), |e| start + e + close.len());
                wipe(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                wipe(&mut out, i, j + 1);
                i = j + 1;
            }
            b'\'' => {
                // A character literal ('x', '\n', '\u{7b}'), or a lifetime ('a: left alone).
                let end = if b.get(i + 1) == Some(&b'\\') {
                    text[i + 3..].find('\'').map(|e| i + 3 + e + 1)
                } else {
                    let len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                    (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 2 + len)
                };
                match end {
                    Some(end) => {
                        wipe(&mut out, i, end);
                        i = end;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).expect("only ASCII bytes were replaced")
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The spans of the inline modules (`mod x { ... }`) of blanked code, each with whether it is
/// compiled for tests only (`#[cfg(test)]` just before it).
fn inline_modules(code: &str) -> Vec<(usize, usize, bool)> {
    let b = code.as_bytes();
    let mut spans = Vec::new();
    let mut open: Vec<(usize, usize, bool)> = Vec::new(); // (start, brace depth inside, test)
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            depth += 1;
            // Is this brace the body of `mod name`?
            let before = code[..i].trim_end();
            let name_start = before.bytes().rev().take_while(|c| is_ident(*c)).count();
            let head = before[..before.len() - name_start].trim_end();
            if name_start > 0
                && head.ends_with("mod")
                && !head[..head.len() - 3].bytes().last().is_some_and(is_ident)
            {
                let line_start = head.rfind('\n').map_or(0, |n| n + 1);
                let attrs = code[..line_start].trim_end();
                open.push((i, depth, attrs.ends_with("#[cfg(test)]")));
            }
        } else if b[i] == b'}' {
            if open.last().is_some_and(|(_, d, _)| *d == depth) {
                let (start, _, test) = open.pop().unwrap_or_default();
                spans.push((start, i, test));
            }
            depth = depth.saturating_sub(1);
        }
        i += 1;
    }
    spans
}

/// The first identifier of each top-level element of the `{ ... }` group starting at `at`.
fn group_heads(code: &str, at: usize) -> Vec<String> {
    let b = code.as_bytes();
    let mut depth = 0;
    let mut end = at;
    for (k, c) in b.iter().enumerate().skip(at) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    end = k;
                    break;
                }
            }
            _ => {}
        }
    }
    let inner = &code[at + 1..end];
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut element = String::new();
    for c in inner.chars().chain(std::iter::once(',')) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let head: String = element
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '*')
                    .collect();
                if !head.is_empty() {
                    heads.push(head);
                }
                element.clear();
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            element.push(c);
        }
    }
    heads
}

/// The names a path continues with at `at` (`name`, or each head of a `{ ... }` group).
fn names_at(code: &str, at: usize) -> Vec<String> {
    let rest = &code[at..];
    if rest.starts_with('{') {
        return group_heads(code, at);
    }
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '*')
        .collect();
    if name.is_empty() {
        Vec::new()
    } else {
        vec![name]
    }
}

/// The files of `dir` (module names, `mod` for `mod.rs`) that one file, `name` with source
/// `text`, depends on. `dir_name` is the directory's module name (`link`, `run`).
fn file_dependencies(
    dir_name: &str,
    name: &str,
    text: &str,
    siblings: &BTreeSet<String>,
) -> BTreeSet<String> {
    let code = blank(text);
    let spans = inline_modules(&code);
    let inside = |pos: usize| spans.iter().filter(move |(s, e, _)| *s < pos && pos < *e);
    let depth_at = |pos: usize| inside(pos).count();
    let in_tests = |pos: usize| inside(pos).any(|(_, _, test)| *test);
    let mut deps = BTreeSet::new();
    let mut add = |target: &str| {
        let to = if siblings.contains(target) && target != "mod" {
            target
        } else {
            "mod"
        };
        if to != name {
            deps.insert(to.to_string());
        }
    };
    let b = code.as_bytes();
    let crate_prefix = format!("crate::{dir_name}::");
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b':');
        if boundary && code[i..].starts_with("super::") {
            let mut k = 0;
            let mut j = i;
            while code[j..].starts_with("super::") {
                k += 1;
                j += "super::".len();
            }
            let d = depth_at(i);
            // `mod.rs` is the directory module itself: its `super::` leaves the directory.
            if k == d + 1 && name != "mod" && !in_tests(i) {
                for n in names_at(&code, j) {
                    add(if n == "self" { "mod" } else { &n });
                }
            }
            i = j;
            continue;
        }
        if boundary && code[i..].starts_with(&crate_prefix) && !in_tests(i) {
            let j = i + crate_prefix.len();
            for n in names_at(&code, j) {
                add(if n == "self" { "mod" } else { &n });
            }
            i = j;
            continue;
        }
        i += 1;
    }
    deps
}

/// The modules `mod.rs` declares only under `#[cfg(test)]`.
fn test_only_modules(mod_rs: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut test_attr = false;
    for line in mod_rs.lines().map(str::trim) {
        if line == "#[cfg(test)]" {
            test_attr = true;
            continue;
        }
        if test_attr {
            if let Some(rest) = line.strip_prefix("mod ") {
                out.insert(rest.trim_end_matches(';').trim().to_string());
            }
        }
        test_attr = false;
    }
    out
}

/// The dependency graph of the files of a directory module: file → files it uses. `mod.rs`
/// depends on every file (it declares them).
fn graph(dir_name: &str, files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let tests = files
        .get("mod")
        .map(|m| test_only_modules(m))
        .unwrap_or_default();
    let siblings: BTreeSet<String> = files
        .keys()
        .filter(|n| !tests.contains(*n))
        .cloned()
        .collect();
    let mut g = BTreeMap::new();
    for (name, text) in files.iter().filter(|(n, _)| siblings.contains(*n)) {
        let deps = if name == "mod" {
            siblings.iter().filter(|n| *n != "mod").cloned().collect()
        } else {
            file_dependencies(dir_name, name, text, &siblings)
        };
        g.insert(name.clone(), deps);
    }
    g
}

/// A cycle of `g` (its files in order, the first repeated at the end), if any.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // 0: unvisited, 1: on the stack, 2: done.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, g, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

fn read_dir_module(dir: &str) -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&path).expect("read the module directory") {
        let p = entry.expect("a directory entry").path();
        if p.extension().is_some_and(|e| e == "rs") {
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("a UTF-8 file name")
                .to_string();
            files.insert(
                name,
                std::fs::read_to_string(&p).expect("read a source file"),
            );
        }
    }
    assert!(
        files.len() > 5,
        "only {} files in {}",
        files.len(),
        path.display()
    );
    files
}

fn describe(g: &BTreeMap<String, BTreeSet<String>>) -> String {
    g.iter()
        .map(|(n, d)| format!("  {n}: {}", d.iter().cloned().collect::<Vec<_>>().join(" ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_files_of_link_use_each_other_without_cycle() {
    let g = graph("link", &read_dir_module("link"));
    assert!(g.contains_key("compare") && !g.contains_key("tests"));
    if let Some(cycle) = find_cycle(&g) {
        panic!(
            "core/src/link has a dependency cycle: {}\n{}",
            cycle.join(" -> "),
            describe(&g)
        );
    }
    // The leaves stay leaves.
    for leaf in ["levels", "probability", "dice", "outcome"] {
        assert!(g[leaf].is_empty(), "{leaf} uses {:?}", g[leaf]);
    }
}

#[test]
fn the_files_of_run_use_each_other_without_cycle() {
    let g = graph("run", &read_dir_module("run"));
    if let Some(cycle) = find_cycle(&g) {
        panic!(
            "core/src/run has a dependency cycle: {}\n{}",
            cycle.join(" -> "),
            describe(&g)
        );
    }
}

#[test]
fn the_checker_reads_paths_and_finds_cycles() {
    let files: BTreeMap<String, String> = [
        ("mod", "pub mod a;\npub mod b;\n#[cfg(test)]\nmod tests;\n"),
        (
            "a",
            "// use super::b;\nuse super::{b::X, c};\nconst S: &str = \"super::mod\";\n",
        ),
        ("b", "fn f() { let x = '{'; crate::link::c::g(); }\nmod t { use super::f; }\n"),
        (
            "c",
            "fn g() {}\n#[cfg(test)]\nmod tests {\n    use super::super::b;\n}\nmod inner {\n    use super::super::a;\n}\n",
        ),
        ("tests", "use super::*;\n"),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t.to_string()))
    .collect();
    let g = graph("link", &files);
    let deps = |n: &str| g[n].iter().cloned().collect::<Vec<_>>();
    assert_eq!(deps("a"), ["b", "c"]);
    assert_eq!(deps("b"), ["c"]);
    assert_eq!(deps("c"), ["a"]);
    assert!(!g.contains_key("tests"));
    let cycle = find_cycle(&g).expect("a -> b -> c -> a");
    assert_eq!(cycle.len(), 4, "{cycle:?}");
    // Using the directory module from a file is a cycle too.
    let mut g2 = g.clone();
    g2.insert("c".into(), ["mod".to_string()].into());
    assert!(find_cycle(&g2).is_some());
    g2.insert("c".into(), BTreeSet::new());
    assert_eq!(find_cycle(&g2), None);
}
