//! Unpack benchmark: tug's rootfs unpack of a multi-layer gzip image against
//! GNU `tar -xzf` of the same layers, in the same run, on the same disk.
//!
//! `cargo bench --bench unpack`; `TUG_BENCH_UNPACK_MIB` sets the image's
//! uncompressed size (default 1024), `TUG_BENCH_DIR` where the generated
//! layers are kept between runs (default: the system temp dir). Content is
//! generated deterministically: many files, random, text-like and
//! repetitive, spread over four layers.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tug::image::digest::{Digest, Hasher};
use tug::image::oci::{Descriptor, media};
use tug::image::rootfs::RootfsCache;
use tug::image::{Reference, Store};

const LAYERS: u64 = 4;

/// xorshift64*: fast, deterministic, good enough for test content.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Hashes what passes through (the layer's diff_id).
struct HashWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

const WORDS: [&str; 16] = [
    "kube",
    "apiserver",
    "etcd",
    "registry",
    "sealos",
    "image",
    "layer",
    "node",
    "master",
    "pod",
    "container",
    "runtime",
    "network",
    "cgroup",
    "config",
    "label",
];

fn content(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(size);
    match rng.next() % 3 {
        0 => {
            while v.len() < size {
                v.extend_from_slice(&rng.next().to_le_bytes());
            }
        }
        1 => {
            while v.len() < size {
                v.extend_from_slice(WORDS[(rng.next() % 16) as usize].as_bytes());
                v.push(if rng.next().is_multiple_of(8) {
                    b'\n'
                } else {
                    b' '
                });
            }
        }
        _ => {
            while v.len() < size {
                let b = (rng.next() % 4) as u8;
                v.extend(std::iter::repeat_n(b, 4096));
            }
        }
    }
    v.truncate(size);
    v
}

/// Write one gzip layer of about `bytes` uncompressed; returns its diff_id.
fn make_layer(path: &Path, seed: u64, bytes: u64) -> Digest {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let gz = flate2::write::GzEncoder::new(
        BufWriter::new(File::create(path).unwrap()),
        flate2::Compression::default(),
    );
    let mut tar = tar::Builder::new(HashWriter {
        inner: gz,
        hasher: Hasher::new(),
    });
    let (mut written, mut n) = (0u64, 0u64);
    while written < bytes {
        // Sizes from 512 B to 8 MiB, skewed small (the smaller of two
        // log-uniform draws): many small files, a few big ones.
        let size = 512usize << (rng.next() % 15).min(rng.next() % 15);
        let size = size + (rng.next() as usize % size);
        let data = content(&mut rng, size);
        let name = format!("l{seed}/d{:02}/s{:02}/f{n:06}", n % 61, n % 13);
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        tar.append_data(&mut h, name, &data[..]).unwrap();
        written += data.len() as u64;
        n += 1;
    }
    let hw = tar.into_inner().unwrap();
    hw.inner.finish().unwrap().flush().unwrap();
    hw.hasher.finish()
}

/// Generate (or reuse) the layers; returns (path, diff_id) per layer.
fn layers(dir: &Path, mib: u64) -> Vec<(PathBuf, Digest)> {
    fs::create_dir_all(dir).unwrap();
    let per = (mib << 20) / LAYERS;
    let handles: Vec<_> = (0..LAYERS)
        .map(|i| {
            let path = dir.join(format!("layer{i}.tar.gz"));
            let id_file = dir.join(format!("layer{i}.diffid"));
            std::thread::spawn(move || {
                if let Some(d) = fs::read_to_string(&id_file)
                    .ok()
                    .and_then(|s| s.parse().ok())
                {
                    return (path, d);
                }
                let d = make_layer(&path, i + 1, per);
                fs::write(&id_file, d.to_string()).unwrap();
                (path, d)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn image(store: &Store, layers: &[(PathBuf, Digest)]) -> tug::image::store::StoredImage {
    let mut descs = Vec::new();
    for (p, _) in layers {
        let d = store.put_reader(File::open(p).unwrap(), None).unwrap();
        descs.push(Descriptor::new(media::OCI_LAYER_GZIP, d.digest, d.size));
    }
    let diff_ids: Vec<&Digest> = layers.iter().map(|(_, d)| d).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let cd = store.put_bytes(&config).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": Descriptor::new(media::OCI_CONFIG, cd, config.len() as u64),
        "layers": descs,
    }))
    .unwrap();
    let md = store.put_bytes(&manifest).unwrap();
    let r: Reference = "bench.local/unpack:v1".parse().unwrap();
    store
        .set_name(
            &r,
            Descriptor::new(media::OCI_MANIFEST, md, manifest.len() as u64),
        )
        .unwrap();
    store.image(&r, None).unwrap()
}

fn settle() {
    let _ = Command::new("sync").status();
}

fn main() {
    // `cargo bench` passes --bench; test runners do not (nextest lists
    // targets with --list and expects no output from a file with no tests),
    // and the test suite must not spend minutes here.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let mib: u64 = std::env::var("TUG_BENCH_UNPACK_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let base = std::env::var_os("TUG_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let gen_dir = base.join(format!("tug-bench-unpack-v2-{mib}"));
    let t = Instant::now();
    let layers = layers(&gen_dir, mib);
    let compressed: u64 = layers
        .iter()
        .map(|(p, _)| fs::metadata(p).unwrap().len())
        .sum();
    let mut files = 0;
    for (p, _) in &layers {
        let gz = flate2::read::GzDecoder::new(File::open(p).unwrap());
        files += tar::Archive::new(gz).entries().unwrap().count();
    }
    println!(
        "image: {LAYERS} gzip layers, {files} files, {mib} MiB uncompressed, {:.0} MiB compressed (ready in {:.1} s)",
        compressed as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );
    let work = tempfile::Builder::new()
        .prefix("tug-bench-")
        .tempdir_in(&base)
        .unwrap();
    let store = Store::open(&work.path().join("store")).unwrap();
    let img = image(&store, &layers);

    let mut best_tug = Duration::MAX;
    let mut best_gnu = Duration::MAX;
    for round in 1..=2 {
        let gnu_dir = work.path().join("gnu");
        fs::create_dir_all(&gnu_dir).unwrap();
        settle();
        let t = Instant::now();
        for (p, _) in &layers {
            let ok = Command::new("tar")
                .arg("-xzf")
                .arg(p)
                .arg("-C")
                .arg(&gnu_dir)
                .status()
                .unwrap();
            assert!(ok.success(), "GNU tar failed");
        }
        let gnu = t.elapsed();
        fs::remove_dir_all(&gnu_dir).unwrap();

        let cache = RootfsCache::new(work.path().join("rootfs"));
        settle();
        let t = Instant::now();
        let tree = cache.unpack(&store, &img).expect("tug unpack");
        let tug = t.elapsed();
        fs::remove_dir_all(&tree).unwrap();
        settle();
        println!(
            "round {round}: tug {:.2} s ({:.0} MiB/s), gnu tar -xzf {:.2} s ({:.0} MiB/s)",
            tug.as_secs_f64(),
            mib as f64 / tug.as_secs_f64(),
            gnu.as_secs_f64(),
            mib as f64 / gnu.as_secs_f64()
        );
        best_tug = best_tug.min(tug);
        best_gnu = best_gnu.min(gnu);
    }
    println!(
        "unpack ratio tug/gnu-tar = {:.2}",
        best_tug.as_secs_f64() / best_gnu.as_secs_f64()
    );
}
