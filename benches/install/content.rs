//! The benchmark's cluster image: a build context made of the fixture
//! rootfs (fast bash stand-ins for every hook) plus real ELF files copied
//! from this machine's /usr (what a rootfs mostly is: kubelet, containerd,
//! runc…; gzip shrinks them ~2.5–3×) plus a `registry/` of random blobs
//! (what a registry holds: layers that are compressed already). Built with
//! the real `tug build`; the build and an unpacked copy for the baseline
//! are kept between runs.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use tug::image::digest::Hasher;
use tug::image::oci::media;
use tug::image::{Reference, Store};

/// Where ELF files are taken from, in this order.
const ELF_DIRS: &[&str] = &["/usr/bin", "/usr/lib", "/usr/libexec"];
/// One registry blob.
const BLOB_MIB: u64 = 16;

/// The built image and what each kind of host needs of it.
pub struct Image {
    /// Its name in the bench TUG_HOME.
    pub name: String,
    /// Compressed bytes of the layers without `registry/` (what a
    /// non-registry host needs).
    pub need_plain_host: u64,
    /// Compressed bytes of every layer (what the registry host needs).
    pub need_registry_host: u64,
    /// The image unpacked (for the baseline).
    pub unpacked: PathBuf,
    /// Bytes of regular files in it.
    pub unpacked_bytes: u64,
}

/// The image for `total_mib` MiB of content, `registry_mib` of it in
/// `registry/`, built into `home` (a TUG_HOME) unless it is there already.
pub fn image(dir: &Path, home: &Path, total_mib: u64, registry_mib: u64) -> Image {
    let tag = format!("{total_mib}-{registry_mib}");
    let name = format!("bench/kubernetes:{tag}");
    let ctx = dir.join(format!("ctx-{tag}"));
    let unpacked = dir.join(format!("unpacked-{tag}"));
    let built = dir.join(format!("built-{tag}"));
    if !built.exists() {
        let _ = fs::remove_dir_all(&ctx);
        let _ = fs::remove_dir_all(&unpacked);
        context(&ctx, (total_mib - registry_mib) << 20, registry_mib << 20);
        let t = std::time::Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_tug"))
            .env("TUG_HOME", home)
            .args(["build", "--plain", "-t", &name])
            .arg(&ctx)
            .output()
            .expect("run tug build");
        assert!(
            out.status.success(),
            "tug build: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        println!("built {name} in {:.1} s", t.elapsed().as_secs_f64());
        fs::remove_dir_all(&ctx).expect("remove the context");
    }
    let store = Store::open(&home.join("data/images")).expect("bench store");
    let r: Reference = name.parse().expect("name");
    let img = store.image(&r, None).expect("the built image");
    let (mut plain, mut all) = (0, 0);
    for l in &img.manifest.layers {
        all += l.size;
        // The build stores `registry/` alone in a plain tar layer.
        if l.media_type != media::OCI_LAYER_TAR {
            plain += l.size;
        }
    }
    if !built.exists() {
        fs::create_dir_all(&unpacked).expect("mkdir");
        for l in &img.manifest.layers {
            let blob = store.blob_path(&l.digest);
            let z = if l.media_type == media::OCI_LAYER_TAR {
                "-xf"
            } else {
                "-xzf"
            };
            run(Command::new("tar")
                .arg(z)
                .arg(&blob)
                .arg("-C")
                .arg(&unpacked));
        }
        File::create(&built).expect("stamp");
    }
    let unpacked_bytes = du(&unpacked);
    Image {
        name,
        need_plain_host: plain,
        need_registry_host: all,
        unpacked,
        unpacked_bytes,
    }
}

/// A shell command printing the bytes of the regular files under its argument.
pub const FILE_BYTES: &str =
    "f() { find \"$1\" -type f -printf '%s\\n' | awk '{s+=$1} END {print s+0}'; }; f";

/// Bytes of the regular files under `dir`.
pub fn du(dir: &Path) -> u64 {
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(format!("{FILE_BYTES} '{}'", dir.display())));
    out.trim().parse().expect("file bytes")
}

fn context(ctx: &Path, rootfs_bytes: u64, registry_bytes: u64) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rootfs");
    fs::create_dir_all(ctx.parent().unwrap()).expect("mkdir");
    run(Command::new("cp").arg("-a").arg(&fixture).arg(ctx));
    let mut elfs = Vec::new();
    for d in ELF_DIRS {
        walk(Path::new(d), &mut elfs);
    }
    assert!(!elfs.is_empty(), "no ELF files under {ELF_DIRS:?}");
    let mut copied = 0;
    // Several passes over the same files when this machine has too few.
    'fill: for pass in 1.. {
        for src in &elfs {
            let rel = src.strip_prefix("/").unwrap();
            let dst = ctx.join(format!("payload/{pass}")).join(rel);
            fs::create_dir_all(dst.parent().unwrap()).expect("mkdir");
            copied += fs::copy(src, &dst).expect("copy an ELF file");
            if copied >= rootfs_bytes {
                break 'fill;
            }
        }
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ registry_bytes;
    let mut left = registry_bytes;
    while left > 0 {
        let n = left.min(BLOB_MIB << 20);
        registry_blob(ctx, n, &mut rng);
        left -= n;
    }
}

/// Regular ELF files under `dir`, sorted, no symlinks.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let Ok(meta) = p.symlink_metadata() else {
            continue;
        };
        if meta.is_dir() {
            walk(&p, out);
        } else if meta.is_file() && meta.len() > 0 && is_elf(&p) {
            out.push(p);
        }
    }
}

fn is_elf(p: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(p)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

/// A blob of `n` random bytes at its digest's place in a registry tree.
fn registry_blob(ctx: &Path, n: u64, rng: &mut u64) {
    let tmp = ctx.join("registry.tmp");
    let mut f = io::BufWriter::new(File::create(&tmp).expect("create"));
    let mut h = Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..n >> 20 {
        for chunk in buf.chunks_mut(8) {
            // xorshift64*
            *rng ^= *rng >> 12;
            *rng ^= *rng << 25;
            *rng ^= *rng >> 27;
            chunk.copy_from_slice(&rng.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
        }
        h.update(&buf);
        f.write_all(&buf).expect("write");
    }
    f.flush().expect("flush");
    let hex = h.finish().hex().to_string();
    let dir = ctx.join(format!(
        "registry/docker/registry/v2/blobs/sha256/{}/{hex}",
        &hex[..2]
    ));
    fs::create_dir_all(&dir).expect("mkdir");
    fs::rename(&tmp, dir.join("data")).expect("rename");
}

/// Run a command; panic with its stderr unless it succeeds; its stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
