//! The store-time scan run while a layer downloads: each tapped layer's
//! bytes go through a small bounded queue to a thread that scans them as
//! [`super::scan`] would read them from the store, and the result is cached
//! once the blob is committed. [`super::prescan`] then finds every scan
//! done and only checks the layers together.

use super::{BUF, ScanError, Scanned, cache_name, is_cluster_image, keep, scan_blob};
use crate::image::digest::Digest;
use crate::image::oci::{Descriptor, ImageConfig};
use crate::image::registry::{BlobTap, TapSink};
use std::io::{self, BufReader, Read};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use tokio_util::bytes::{Buf, Bytes};

/// Chunks queued between the download and a layer's scanner: when the scan
/// is slower, the download waits, and memory stays a few chunks.
const QUEUE: usize = 8;

/// Scans the layers of cluster images during a pull into the scan cache.
pub struct ScanTap {
    cache: PathBuf,
}

impl ScanTap {
    /// A tap that keeps its scans in `cache` (the layer-scan cache).
    pub fn new(cache: PathBuf) -> Self {
        ScanTap { cache }
    }
}

impl BlobTap for ScanTap {
    fn open(&self, config: &ImageConfig, layer: &Descriptor) -> Option<Box<dyn TapSink>> {
        let entry = self.cache.join(cache_name(&layer.digest));
        if !is_cluster_image(config) || entry.is_file() {
            return None;
        }
        let (tx, rx) = sync_channel(QUEUE);
        let name = layer.digest.to_string();
        let media_type = layer.media_type.clone();
        let scanner = std::thread::Builder::new()
            .name("layer-scan".into())
            .spawn(move || {
                scan_blob(
                    BufReader::with_capacity(BUF, Queued::new(rx)),
                    &name,
                    &media_type,
                )
            })
            .ok()?;
        Some(Box::new(Scanning {
            tx,
            scanner,
            digest: layer.digest.clone(),
            entry,
        }))
    }
}

/// One layer being scanned as it arrives.
struct Scanning {
    tx: SyncSender<Bytes>,
    scanner: JoinHandle<Result<Scanned, ScanError>>,
    digest: Digest,
    entry: PathBuf,
}

impl TapSink for Scanning {
    fn data(&mut self, bytes: &Bytes) {
        // A scanner that stopped (an error, or the tar ended early) has
        // dropped its end; the store-time check scans that layer again.
        let _ = self.tx.send(bytes.clone());
    }

    fn finish(self: Box<Self>, committed: bool) {
        let Scanning {
            tx,
            scanner,
            digest,
            entry,
        } = *self;
        drop(tx);
        let scanned = scanner.join();
        if let (true, Ok(Ok(scanned))) = (committed, scanned) {
            keep(&entry, &digest, &scanned);
        }
    }
}

/// Reads the chunks a download sends, in order, until the sender is gone.
struct Queued {
    rx: Receiver<Bytes>,
    current: Bytes,
}

impl Queued {
    fn new(rx: Receiver<Bytes>) -> Self {
        Queued {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for Queued {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.recv() {
                Ok(next) => self.current = next,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::oci::{RuntimeConfig, media};

    fn layer_blob() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in [
            ("etc/kubeadm.yml", &b"kind: x\n"[..]),
            ("registry/a", b"12"),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, data).unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
        gz.finish().unwrap()
    }

    fn config(labels: &[(&str, &str)]) -> ImageConfig {
        ImageConfig {
            config: Some(RuntimeConfig {
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Feed `blob` to a tap in uneven chunks, as a download would.
    fn feed(tap: &ScanTap, config: &ImageConfig, blob: &[u8], committed: bool) -> Descriptor {
        let desc = Descriptor::new(media::OCI_LAYER_GZIP, Digest::of(blob), blob.len() as u64);
        let mut sink = tap
            .open(config, &desc)
            .expect("a cluster image's layer is tapped");
        for chunk in blob.chunks(7) {
            sink.data(&Bytes::copy_from_slice(chunk));
        }
        sink.finish(committed);
        desc
    }

    #[test]
    fn a_tapped_layer_scans_as_the_stored_blob_does() {
        let dir = tempfile::tempdir().unwrap();
        let tap = ScanTap::new(dir.path().to_path_buf());
        let blob = layer_blob();
        let desc = feed(&tap, &config(&[("sealos.io.type", "rootfs")]), &blob, true);
        let cached: Scanned = serde_json::from_slice(
            &std::fs::read(dir.path().join(cache_name(&desc.digest))).unwrap(),
        )
        .unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, &blob).unwrap();
        let direct = super::super::scan(&path, "l", media::OCI_LAYER_GZIP).unwrap();
        assert_eq!(cached.facts.diff_id, direct.facts.diff_id);
        assert!(cached.facts.diff_id.is_some());
        assert_eq!(cached.content.entries, 2);
        assert!(cached.content.registry && cached.content.other);
        assert_eq!(cached.files.len(), 1);
        assert!(
            tap.open(&config(&[("sealos.io.type", "rootfs")]), &desc)
                .is_none()
        );
    }

    #[test]
    fn nothing_is_kept_of_an_uncommitted_blob_or_a_plain_image() {
        let dir = tempfile::tempdir().unwrap();
        let tap = ScanTap::new(dir.path().to_path_buf());
        let desc = feed(
            &tap,
            &config(&[("sealos.io.type", "rootfs")]),
            &layer_blob(),
            false,
        );
        assert!(!dir.path().join(cache_name(&desc.digest)).exists());
        assert!(tap.open(&config(&[("a", "b")]), &desc).is_none());
    }

    #[test]
    fn a_scanner_that_stops_early_does_not_hold_the_download() {
        let dir = tempfile::tempdir().unwrap();
        let tap = ScanTap::new(dir.path().to_path_buf());
        let mut garbage = vec![0x1f, 0x8b];
        garbage.extend(std::iter::repeat_n(0xAB, 1 << 20));
        let desc = feed(
            &tap,
            &config(&[("sealos.io.type", "rootfs")]),
            &garbage,
            true,
        );
        assert!(!dir.path().join(cache_name(&desc.digest)).exists());
    }
}
