//! `SHA256SUMS`, in the format `sha256sum` writes and `sha256sum -c` reads
//! (`<64 hex digits>  <file>` per line), and the writer that hashes what
//! passes through it while reporting progress and honouring cancel.

use super::{BundleError, Job};
use crate::image::digest::Hasher;
use std::io::{self, Write};
use std::path::Path;

/// The checksums of a bundle's files, in the order they were written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums {
    /// (lower-case hex SHA-256, file name) pairs.
    pub entries: Vec<(String, String)>,
}

/// Longest SHA256SUMS tug reads; a real one is a few hundred bytes.
pub(super) const MAX_SUMS: u64 = 64 * 1024;

impl Sums {
    /// Parse SHA256SUMS text; `path` names it in errors. Binary-mode lines
    /// (`<hex> *<file>`) are accepted too. File names must be plain names
    /// in the bundle's top directory.
    pub fn parse(path: &Path, text: &str) -> Result<Sums, BundleError> {
        let mut entries: Vec<(String, String)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let bad = |reason: String| BundleError::Sums {
                path: path.to_path_buf(),
                line: i + 1,
                reason,
            };
            if line.trim().is_empty() {
                continue;
            }
            let (hex, rest) = line
                .split_once(' ')
                .ok_or_else(|| bad("expected \"<sha256>  <file>\"".into()))?;
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!("{hex:?} is not a SHA-256 in hex")));
            }
            let name = rest
                .strip_prefix(' ')
                .or_else(|| rest.strip_prefix('*'))
                .ok_or_else(|| bad("expected two spaces between checksum and file".into()))?;
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(bad(format!(
                    "{name:?} is not a file name in the bundle's directory"
                )));
            }
            if entries.iter().any(|(_, n)| n == name) {
                return Err(bad(format!("{name} is listed twice")));
            }
            entries.push((hex.to_ascii_lowercase(), name.to_string()));
        }
        if entries.is_empty() {
            return Err(BundleError::Sums {
                path: path.to_path_buf(),
                line: 1,
                reason: "lists no files".into(),
            });
        }
        Ok(Sums { entries })
    }

    /// The text `sha256sum -c` reads.
    pub fn render(&self) -> String {
        self.entries
            .iter()
            .map(|(hex, name)| format!("{hex}  {name}\n"))
            .collect()
    }

    /// The checksum listed for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(_, n)| n == name)
            .map(|(h, _)| h.as_str())
    }
}

/// A writer that hashes and counts what it passes on, reports progress and
/// fails with an error once the job is cancelled.
pub(super) struct Hashing<'a, W> {
    inner: W,
    hasher: Hasher,
    job: Job<'a>,
}

impl<'a, W: Write> Hashing<'a, W> {
    pub(super) fn new(inner: W, job: Job<'a>) -> Self {
        Hashing {
            inner,
            hasher: Hasher::new(),
            job,
        }
    }

    /// The inner writer and the hex SHA-256 of everything written.
    pub(super) fn finish(self) -> (W, String) {
        (self.inner, self.hasher.finish().hex().to_string())
    }
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.job.cancelled() {
            return Err(io::Error::other("cancelled"));
        }
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.job.progress.advance(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hash everything `r` yields (progress and cancel as for [`Hashing`]).
pub(super) fn hash_reader(r: &mut impl io::Read, job: Job<'_>) -> io::Result<(String, u64)> {
    let mut w = Hashing::new(io::sink(), job);
    let n = io::copy(r, &mut w)?;
    Ok((w.finish().1, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Sums, BundleError> {
        Sums::parse(Path::new("SHA256SUMS"), text)
    }

    #[test]
    fn round_trips_and_reads_binary_mode() {
        let a = "a".repeat(64);
        let sums = parse(&format!("{a}  tug\n{} *images.oci.tar\n", "B".repeat(64))).unwrap();
        assert_eq!(sums.get("tug"), Some(a.as_str()));
        assert_eq!(sums.get("images.oci.tar"), Some("b".repeat(64).as_str()));
        assert_eq!(
            sums.render(),
            format!("{a}  tug\n{}  images.oci.tar\n", "b".repeat(64))
        );
    }

    #[test]
    fn names_the_bad_line() {
        let a = "a".repeat(64);
        let cases = [
            (format!("{a}  tug\nnonsense\n"), 2, "expected"),
            (format!("{a}  ../etc/passwd\n"), 1, "not a file name"),
            (format!("{a}  tug\n{a}  tug\n"), 2, "listed twice"),
            ("abc  tug\n".to_string(), 1, "not a SHA-256"),
            ("\n".to_string(), 1, "lists no files"),
        ];
        for (text, line, what) in cases {
            let e = parse(&text).unwrap_err().to_string();
            assert!(e.starts_with(&format!("SHA256SUMS: line {line}: ")), "{e}");
            assert!(e.contains(what), "{e}");
        }
    }
}
