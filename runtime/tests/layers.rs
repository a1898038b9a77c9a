//! The layer rule of `runtime/src`: every module imports only modules of
//! lower layers (ARCHITECTURE.md, "Layers"). This test reads the sources'
//! `crate::` paths, outside comments and string literals, and fails on any
//! that points sideways or up, naming the file and line.

use std::fs;
use std::path::{Path, PathBuf};

/// The layers, from the ground up. A module may import the modules of the
/// layers below its own, never its own layer's other modules or a higher
/// layer's. `lib.rs` stands above them all.
const LAYERS: &[&[&str]] = &[
    &["error", "value", "python"],
    &["messages", "intercept"],
    &["config", "events"],
    &["context"],
    &["runnable"],
    &["prompts", "parsers", "retrievers"],
    &["tools"],
    &["models"],
    &["graph"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The source with comments removed and the contents of string and
/// character literals blanked, line breaks kept (so line numbers hold).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let keep_newlines = |from: &[u8], out: &mut String| {
        out.extend(from.iter().filter(|&&c| c == b'\n').map(|_| '\n'));
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with(b"/*") {
            let (mut depth, mut j) = (0usize, 0);
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            keep_newlines(&rest[..j], &mut out);
            i += j;
        } else if rest.starts_with(b"r#") || rest.starts_with(b"r\"") || rest.starts_with(b"br") {
            // A raw string: r"..." or r#"..."#, with as many # as it opened with.
            let start = if rest[0] == b'b' { 2 } else { 1 };
            let hashes = rest[start..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(start + hashes) != Some(&b'"') || (i > 0 && is_ident(b[i - 1])) {
                out.push(rest[0] as char);
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            let body = start + hashes + 1;
            let end = rest[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(rest.len(), |p| body + p + close.len());
            out.push_str("\"\"");
            keep_newlines(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            keep_newlines(&rest[..j.min(rest.len())], &mut out);
            i += j + 1;
        } else if rest[0] == b'\'' {
            // A char literal ('x', '\n', '\u{..}'), or a lifetime ('a).
            let literal_end = if rest.get(1) == Some(&b'\\') {
                rest.iter().skip(2).position(|&c| c == b'\'').map(|p| p + 3)
            } else {
                let ch_len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                (rest.get(1 + ch_len) == Some(&b'\'')).then_some(2 + ch_len)
            };
            match literal_end {
                Some(end) => {
                    out.push_str("' '");
                    i += end;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch = src[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn ident_at(s: &str) -> &str {
    let s = s.trim_start();
    let end = s.bytes().position(|c| !is_ident(c)).unwrap_or(s.len());
    &s[..end]
}

/// The first segment of each path after `crate::` in `code`, with its line:
/// `crate::a::B` gives `a`; `crate::{a::B, c}` gives `a` and `c`. Exported
/// macros called as `crate::name!` are not imports and are skipped, and so
/// is `$crate::` (a macro's expansion, in the user's crate).
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = code[from..].find("crate::") {
        let at = from + pos;
        from = at + "crate::".len();
        let before = code[..at].bytes().next_back();
        if before.is_some_and(|c| is_ident(c) || c == b'$') {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut end) = (1, group.len());
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = k;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let mut depth = 0;
            let mut item_start = 0;
            let inner = &group[..end];
            for (k, c) in inner.char_indices().chain([(inner.len(), ',')]) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        let name = ident_at(&inner[item_start..k]);
                        if !name.is_empty() {
                            found.push((line, name.to_owned()));
                        }
                        item_start = k + 1;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(rest);
            let after = rest[name.len()..].trim_start();
            if !name.is_empty() && !after.starts_with('!') {
                found.push((line, name.to_owned()));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("runtime/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_point_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let shown = Path::new("runtime/src").join(rel);
        let shown = shown.display();
        let Some(top) = rel.components().next().and_then(|c| c.as_os_str().to_str()) else {
            continue;
        };
        if top == "lib.rs" {
            continue;
        }
        let module = top.trim_end_matches(".rs");
        let Some(own) = layer_of(module) else {
            problems.push(format!(
                "{shown}: module `{module}` is in no layer: add it to LAYERS and ARCHITECTURE.md"
            ));
            continue;
        };
        let code = code_only(&fs::read_to_string(file).expect("a source file"));
        for (line, target) in crate_paths(&code) {
            if target == module {
                continue;
            }
            match layer_of(&target) {
                None => problems.push(format!(
                    "{shown}:{line}: `crate::{target}` is not a module: import it from the module that defines it"
                )),
                Some(l) if l >= own => problems.push(format!(
                    "{shown}:{line}: `{module}` (layer {}) imports `{target}` (layer {}): imports must point down",
                    own + 1,
                    l + 1
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} import(s) break the layer rule:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// ARCHITECTURE.md shows the same layers as [`LAYERS`], one line each from
/// the top: `N  a, b, c`.
#[test]
fn the_architecture_page_shows_these_layers() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md");
    let Ok(text) = fs::read_to_string(&page) else {
        eprintln!("skipped: {} is not there (a packaged crate)", page.display());
        return;
    };
    for (i, layer) in LAYERS.iter().enumerate() {
        let line = format!("{}  {}", i + 1, layer.join(", "));
        assert!(
            text.lines().any(|l| l.trim_end() == line),
            "ARCHITECTURE.md has no line `{line}` in its layer drawing"
        );
    }
}

#[test]
fn the_reader_sees_through_comments_and_strings() {
    let code = code_only(
        "use crate::a::X; // crate::b\n/* crate::c */ let s = \"crate::d\"; let r = r#\"crate::e\"#;\n\
         let c = '\"'; fn f<'a>(x: &'a str) { crate::g::h(); $crate::i; crate::j!(); }\n\
         use crate::{k::L, m::{N, O}, p};",
    );
    let names: Vec<_> = crate_paths(&code).into_iter().collect();
    assert_eq!(
        names,
        [
            (1, "a".to_owned()),
            (3, "g".to_owned()),
            (4, "k".to_owned()),
            (4, "m".to_owned()),
            (4, "p".to_owned())
        ]
    );
}
