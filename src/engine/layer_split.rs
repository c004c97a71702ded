//! A mixed layer (registry data and other files) without its registry
//! data, made once on the jump host and kept by the layer's digest: a host
//! that runs no registry receives only what it unpacks, instead of the
//! whole layer to throw most of it away (the registry's images are often
//! most of a rootfs layer's bytes).
//!
//! The tar is filtered block by block, entries copied byte for byte with
//! their extension headers (GNU long names, PAX records), so what a host
//! unpacks is exactly what it would have taken from the whole layer.

use super::layer_scan::normalise;
use super::plan::Compression;
use crate::image::digest::Digest;
use std::collections::BTreeMap;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const BLOCK: usize = 512;

/// Entries whose extension headers run at most this long: a PAX or GNU
/// long-name record beyond it is not a path.
const MAX_EXTENSION: u64 = 1 << 20;

/// What the registry-less form of the layer `identity` (its digest) is
/// kept as in the cache.
pub fn derived_name(identity: &str) -> String {
    format!("{}{DERIVED_SUFFIX}", identity.replace(':', "-"))
}

/// The layer digest a cache file's name keeps, if it is one of ours.
pub fn derived_digest(name: &str) -> Option<Digest> {
    let (algorithm, hex) = name.strip_suffix(DERIVED_SUFFIX)?.split_once('-')?;
    format!("{algorithm}:{hex}").parse().ok()
}

/// How a registry-less layer's file name ends.
const DERIVED_SUFFIX: &str = ".no-registry.tar.gz";

/// The layer at `blob` without `registry/`, gzipped, as the file
/// `<cache>/<name>`: made on the first call (one at a time per file, as
/// every host of a run asks at once), then reused.
pub async fn without_registry(
    blob: &Path,
    compression: Compression,
    cache: &Path,
    name: &str,
) -> io::Result<PathBuf> {
    static MAKING: Mutex<BTreeMap<PathBuf, Arc<tokio::sync::Mutex<()>>>> =
        Mutex::new(BTreeMap::new());
    let out = cache.join(name);
    let lock = MAKING
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(out.clone())
        .or_default()
        .clone();
    let _making = lock.lock().await;
    if out.is_file() {
        return Ok(out);
    }
    let (blob, made) = (blob.to_path_buf(), out.clone());
    tokio::task::spawn_blocking(move || make(&blob, compression, &made))
        .await
        .map_err(io::Error::other)??;
    Ok(out)
}

/// Write the filtered layer to a temporary file beside `out`, then rename:
/// `out` is whole or absent, whatever stops the process.
fn make(blob: &Path, compression: Compression, out: &Path) -> io::Result<()> {
    let dir = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = out.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = write_filtered(blob, compression, &tmp);
    match written.and_then(|()| std::fs::rename(&tmp, out)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// The layer at `blob` without `registry/`, gzipped into the file `to`.
fn write_filtered(blob: &Path, compression: Compression, to: &Path) -> io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(to)?;
    let input = BufReader::with_capacity(1 << 20, std::fs::File::open(blob)?);
    let decoded: Box<dyn Read> = match compression {
        Compression::None => Box::new(input),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(input)?),
    };
    let sink = BufWriter::with_capacity(1 << 20, &file);
    let mut gz = flate2::write::GzEncoder::new(sink, flate2::Compression::fast());
    filter(BufReader::with_capacity(1 << 20, decoded), &mut gz, |p| {
        p == "registry" || p.starts_with("registry/")
    })?;
    gz.finish()?.flush()?;
    file.sync_all()
}

/// Copy the tar `input` to `output` without the entries whose path
/// `drop` matches, ending with the two zero blocks of a tar's end.
pub fn filter(
    mut input: impl Read,
    output: &mut impl Write,
    drop: impl Fn(&str) -> bool,
) -> io::Result<()> {
    let mut header = [0u8; BLOCK];
    // Extension headers (and their data) waiting for the entry they name.
    let mut pending: Vec<u8> = Vec::new();
    let mut long_name: Option<String> = None;
    loop {
        if !read_block(&mut input, &mut header)? || header.iter().all(|b| *b == 0) {
            break;
        }
        let size = entry_size(&header)?;
        let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
        if let kind @ (b'x' | b'L' | b'K') = header[156] {
            if padded > MAX_EXTENSION {
                return Err(bad("an extension header over 1 MiB"));
            }
            let mut data = vec![0u8; padded as usize];
            input.read_exact(&mut data)?;
            let text = &data[..size as usize];
            if kind == b'L' {
                long_name = Some(c_string(text));
            } else if let Some(p) = (kind == b'x').then(|| pax_path(text)).flatten() {
                long_name = Some(p);
            }
            pending.extend_from_slice(&header);
            pending.extend_from_slice(&data);
            continue;
        }
        let path = long_name.take().unwrap_or_else(|| header_path(&header));
        let dropped = normalise(&path).is_some_and(|p| drop(&p));
        if dropped {
            io::copy(&mut (&mut input).take(padded), &mut io::sink())?;
        } else {
            output.write_all(&pending)?;
            output.write_all(&header)?;
            let copied = io::copy(&mut (&mut input).take(padded), output)?;
            if copied != padded {
                return Err(bad("the tar ends inside an entry"));
            }
        }
        pending.clear();
    }
    output.write_all(&[0u8; 2 * BLOCK])
}

/// Read one block; false at a clean end of input.
fn read_block(input: &mut impl Read, block: &mut [u8; BLOCK]) -> io::Result<bool> {
    let mut got = 0;
    while got < BLOCK {
        match input.read(&mut block[got..])? {
            0 if got == 0 => return Ok(false),
            0 => return Err(bad("the tar ends inside a header")),
            n => got += n,
        }
    }
    Ok(true)
}

/// The size field: octal text, or base-256 when its top bit is set.
fn entry_size(header: &[u8; BLOCK]) -> io::Result<u64> {
    let field = &header[124..136];
    if field[0] & 0x80 != 0 {
        let mut n: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            n = n
                .checked_mul(256)
                .and_then(|n| n.checked_add(u64::from(*b)))
                .ok_or_else(|| bad("an entry size over 2^64"))?;
        }
        return Ok(n);
    }
    let text: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8).map_err(|_| bad("a size field that is not octal"))
}

/// The path of a plain or ustar header (prefix + name).
fn header_path(header: &[u8; BLOCK]) -> String {
    let name = c_string(&header[..100]);
    if &header[257..262] == b"ustar" {
        let prefix = c_string(&header[345..500]);
        if !prefix.is_empty() {
            return format!("{prefix}/{name}");
        }
    }
    name
}

/// Bytes up to the first NUL, as text.
fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The `path` record of a PAX extended header (`<len> path=<value>\n`).
fn pax_path(records: &[u8]) -> Option<String> {
    let mut rest = records;
    let mut found = None;
    while !rest.is_empty() {
        let space = rest.iter().position(|b| *b == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
        if len <= space || len > rest.len() {
            return found;
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(v) = record.strip_prefix(b"path=") {
            found = Some(String::from_utf8_lossy(v).into_owned());
        }
        rest = &rest[len..];
    }
    found
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("layer tar: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tar: &[u8]) -> Vec<String> {
        tar::Archive::new(tar)
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect()
    }

    fn mixed() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let long = format!("bin/{}", "k".repeat(150));
        let long_registry = format!("registry/docker/{}", "r".repeat(150));
        for (name, data) in [
            ("bin/kubeadm", &b"kubeadm"[..]),
            ("registry/docker/registry/v2/blob", &[7u8; 3000][..]),
            (long.as_str(), b"long"),
            (long_registry.as_str(), b"long registry"),
            ("./registry", b""),
            ("etc/kubeadm.yml", b"kind: x\n"),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o755);
            h.set_cksum();
            b.append_data(&mut h, name, data).unwrap();
        }
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "bin/link", "kubeadm").unwrap();
        b.into_inner().unwrap()
    }

    #[test]
    fn registry_entries_go_and_the_rest_stay_byte_for_byte() {
        let input = mixed();
        let mut out = Vec::new();
        filter(&input[..], &mut out, |p| {
            p == "registry" || p.starts_with("registry/")
        })
        .unwrap();
        let long = format!("bin/{}", "k".repeat(150));
        assert_eq!(
            names(&out),
            ["bin/kubeadm", long.as_str(), "etc/kubeadm.yml", "bin/link"]
        );
        let mut a = tar::Archive::new(&out[..]);
        let mut texts = Vec::new();
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            texts.push(s);
        }
        assert_eq!(texts, ["kubeadm", "long", "kind: x\n", ""]);
        // Nothing dropped: the same entries in the same bytes.
        let mut all = Vec::new();
        filter(&input[..], &mut all, |_| false).unwrap();
        assert_eq!(names(&all), names(&input));
    }

    #[test]
    fn a_cut_tar_is_an_error_not_a_short_layer() {
        let input = mixed();
        let mut out = Vec::new();
        let e = filter(&input[..700], &mut out, |_| false).unwrap_err();
        assert!(e.to_string().contains("layer tar:"), "{e}");
    }

    #[tokio::test]
    async fn made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let blob = dir.path().join("blob");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&mixed()).unwrap();
        std::fs::write(&blob, gz.finish().unwrap()).unwrap();
        let cache = dir.path().join("cache");
        let (a, b) = tokio::join!(
            without_registry(&blob, Compression::Gzip, &cache, "x.tar.gz"),
            without_registry(&blob, Compression::Gzip, &cache, "x.tar.gz"),
        );
        assert_eq!(a.unwrap(), b.unwrap());
        let made = std::fs::read(cache.join("x.tar.gz")).unwrap();
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&made[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert!(!names(&plain).iter().any(|n| n.starts_with("registry")));
        assert_eq!(
            std::fs::read_dir(&cache).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
