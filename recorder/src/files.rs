//! Atomic writes, and JSON Lines reading that names the line of each
//! problem.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use runwright::{Error, ErrorKind, Result};
use serde_json::Value;

/// An I/O failure on a file, with the file's path.
#[derive(Debug)]
pub(crate) struct FileError {
    path: PathBuf,
    what: &'static str,
    source: std::io::Error,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: cannot {}: {}", self.path.display(), self.what, self.source)
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

pub(crate) fn io_error(path: &Path, what: &'static str, source: std::io::Error) -> Error {
    Error::from_source(
        ErrorKind::Step,
        FileError {
            path: path.to_owned(),
            what,
            source,
        },
    )
}

/// A problem with a file's contents, at a line (1-based) when known.
pub(crate) fn format_error(source: &str, line: Option<usize>, message: impl fmt::Display) -> Error {
    match line {
        Some(n) => Error::new(ErrorKind::InvalidInput, format!("{source}:{n}: {message}")),
        None => Error::new(ErrorKind::InvalidInput, format!("{source}: {message}")),
    }
}

/// Reads a whole file as text.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| io_error(path, "read", e))
}

/// Where a write goes: a file, possibly wrapped (tests wrap it in a writer
/// that fails part way).
pub(crate) type Wrap<'a> = &'a dyn Fn(File) -> Box<dyn Write>;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: into a new temporary file in the same
/// folder, flushed to disk, then renamed over `path`. On any failure the
/// temporary file is removed and `path` is left as it was.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], wrap: Option<Wrap<'_>>) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| io_error(&dir, "create the folder", e))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    // Unique per process and per write, so concurrent writers (two tests,
    // two recorders) never share a temporary file.
    let temp = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| io_error(&temp, "create", e))?;
        match wrap {
            Some(wrap) => {
                let sync = file.try_clone().map_err(|e| io_error(&temp, "open", e))?;
                let mut w = wrap(file);
                w.write_all(bytes).map_err(|e| io_error(&temp, "write", e))?;
                w.flush().map_err(|e| io_error(&temp, "write", e))?;
                sync.sync_all().map_err(|e| io_error(&temp, "flush", e))?;
            }
            None => {
                let mut file = file;
                file.write_all(bytes).map_err(|e| io_error(&temp, "write", e))?;
                file.sync_all().map_err(|e| io_error(&temp, "flush", e))?;
            }
        }
        fs::rename(&temp, path).map_err(|e| io_error(path, "replace", e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// The lines of a JSON Lines text, parsed, with their 1-based numbers.
/// A last line without its newline means the file was cut off; an empty or
/// invalid line is an error naming it.
pub(crate) fn parse_lines(source: &str, text: &str) -> Result<Vec<(usize, Value)>> {
    if text.is_empty() {
        return Err(format_error(source, None, "empty file (no header line)"));
    }
    let mut out = Vec::new();
    let mut lines = text.split('\n').enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let n = i + 1;
        let last = lines.peek().is_none();
        if last {
            if line.is_empty() {
                break;
            }
            return Err(format_error(
                source,
                Some(n),
                "truncated: the last line has no end (the file was cut off while being written?)",
            ));
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return Err(format_error(source, Some(n), "empty line"));
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| format_error(source, Some(n), format!("invalid JSON: {e}")))?;
        out.push((n, v));
    }
    Ok(out)
}

/// Checks a header line's `format` and `version`.
pub(crate) fn check_header(source: &str, header: &Value, format: &str, version: u64, what: &str) -> Result<()> {
    if header.get("format").and_then(Value::as_str) != Some(format) {
        return Err(format_error(
            source,
            Some(1),
            format!("not a {what} (the first line must be a header with \"format\": \"{format}\")"),
        ));
    }
    match header.get("version").and_then(Value::as_u64) {
        Some(v) if v == version => Ok(()),
        Some(v) => Err(format_error(
            source,
            Some(1),
            format!("{what} format version {v} is not supported (this runwright-recorder reads version {version})"),
        )),
        None => Err(format_error(
            source,
            Some(1),
            format!("the header has no format version (expected \"version\": {version})"),
        )),
    }
}

/// A writer that fails after `left` bytes, as a process killed mid-write.
#[cfg(test)]
struct Failing {
    file: File,
    left: usize,
}

#[cfg(test)]
pub(crate) fn failing(file: File, after: usize) -> Box<dyn Write> {
    Box::new(Failing { file, left: after })
}

#[cfg(test)]
impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("simulated failure mid-write"));
        }
        let n = buf.len().min(self.left);
        let n = self.file.write(&buf[..n])?;
        self.left -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_one_and_problems_name_their_line() {
        let ok = parse_lines("f", "{\"a\":1}\n[2]\n").unwrap();
        assert_eq!(ok.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2]);
        let e = parse_lines("f", "{\"a\":1}\n{\"b\":\n").unwrap_err();
        assert!(e.message().starts_with("f:2: invalid JSON: EOF"), "{e}");
        let e = parse_lines("f", "{\"a\":1}\n{\"b\":2}").unwrap_err();
        assert!(e.message().starts_with("f:2: truncated"), "{e}");
        let e = parse_lines("f", "{\"a\":1}\n\n{}\n").unwrap_err();
        assert_eq!(e.message(), "f:2: empty line");
        assert_eq!(
            parse_lines("f", "").unwrap_err().message(),
            "f: empty file (no header line)"
        );
    }
}
