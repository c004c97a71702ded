//! The jump host's caches kept by layer digest (each layer's scan, a
//! mixed layer without its registry data): pruned with the store, so
//! removing an image frees what was derived from its layers too.

use super::layer_scan::scan_digest;
use super::layer_split::derived_digest;
use crate::image::digest::Digest;
use std::collections::BTreeSet;
use std::io;
use std::path::Path;

/// Remove every scan in `scans` and derived layer in `derived` whose layer
/// is not in `live` (the store's reachable blobs), files that name no
/// layer, and temporary files whose maker is gone. Returns how many files
/// went and how many bytes they held.
pub fn prune(scans: &Path, derived: &Path, live: &BTreeSet<Digest>) -> io::Result<(usize, u64)> {
    let mut gone = (0, 0);
    for (dir, named) in [
        (scans, scan_digest as fn(&str) -> Option<Digest>),
        (derived, derived_digest),
    ] {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let keep = if name.starts_with('.') {
                // A file being made (`.NAME.PID.tmp`) is kept while the
                // process making it runs.
                maker_running(&name)
            } else {
                named(&name).is_some_and(|d| live.contains(&d))
            };
            if keep {
                continue;
            }
            let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
            std::fs::remove_file(entry.path())?;
            gone.0 += 1;
            gone.1 += len;
        }
    }
    Ok(gone)
}

/// Whether the process a temporary file `.NAME.PID.tmp` names still runs
/// (a name of another shape is treated as running: it is left alone).
fn maker_running(name: &str) -> bool {
    let pid = name
        .strip_suffix(".tmp")
        .and_then(|n| n.rsplit('.').next())
        .and_then(|p| p.parse::<u32>().ok());
    pid.is_none_or(|p| Path::new(&format!("/proc/{p}")).exists())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::layer_split::derived_name;

    #[test]
    fn only_files_of_live_layers_stay() {
        let dir = tempfile::tempdir().unwrap();
        let (scans, derived) = (dir.path().join("scans"), dir.path().join("derived"));
        std::fs::create_dir_all(&scans).unwrap();
        std::fs::create_dir_all(&derived).unwrap();
        let live: Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        let dead: Digest = format!("sha256:{}", "b".repeat(64)).parse().unwrap();
        for d in [&live, &dead] {
            let hex = d.hex();
            std::fs::write(scans.join(format!("v2-sha256-{hex}.json")), "{}").unwrap();
            std::fs::write(derived.join(derived_name(&d.to_string())), "xx").unwrap();
        }
        std::fs::write(scans.join("v1-old.json"), "{}").unwrap();
        let making = format!(".x.no-registry.tar.gz.{}.tmp", std::process::id());
        std::fs::write(derived.join(&making), "x").unwrap();
        // No process has a pid above the kernel's limit (2^22).
        std::fs::write(derived.join(".y.no-registry.tar.gz.4294967295.tmp"), "y").unwrap();
        let keep = BTreeSet::from([live.clone()]);
        assert_eq!(prune(&scans, &derived, &keep).unwrap(), (4, 7));
        let left = |d: &Path| {
            let mut names: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        assert_eq!(left(&scans), [format!("v2-sha256-{}.json", live.hex())]);
        assert_eq!(left(&derived), [making, derived_name(&live.to_string())]);
        assert_eq!(prune(&scans.join("none"), &derived, &keep).unwrap(), (0, 0));
    }
}
