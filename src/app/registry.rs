//! The registry client as both faces set it up: tug's credentials (`tug
//! login`) and the registries that speak plain HTTP (flags and the
//! preferences file).

use super::Context;
use crate::engine::layer_scan::ScanTap;
use crate::image::oci::Platform;
use crate::image::registry::{
    Progress, PulledImage, RegistryClient, RegistryError, RegistryOptions,
};
use crate::image::{Reference, Store};
use anyhow::Context as _;
use bytesize::ByteSize;
use std::path::Path;
use std::sync::Arc;

/// Registries named as plain HTTP in the preferences file
/// (`insecureRegistries: [host:port, ...]`); none when there is no file.
pub fn insecure_registries_from(config_file: &Path) -> anyhow::Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Prefs {
        #[serde(default)]
        insecure_registries: Vec<String>,
    }
    let text = match std::fs::read_to_string(config_file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("read {}", config_file.display())),
    };
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let prefs: Prefs = serde_yaml::from_str(&text)
        .with_context(|| format!("{}: field insecureRegistries", config_file.display()))?;
    Ok(prefs.insecure_registries)
}

/// A registry client set up from the context (auth file, insecure
/// registries); `monolithic` pushes each blob in one request.
pub fn client(ctx: &Context, monolithic: bool) -> RegistryClient {
    let mut options = RegistryOptions::new(ctx.paths.auth_file(), ctx.insecure_registries.clone());
    options.monolithic_push = monolithic;
    RegistryClient::new(options)
}

/// Pull an image into the store, its cluster-image layers scanned for the
/// store-time check while they download (the check after the pull then
/// finds them done).
pub async fn pull(
    ctx: &Context,
    client: &RegistryClient,
    reference: &Reference,
    platforms: &[Platform],
    store: &Store,
    progress: Arc<dyn Progress>,
) -> Result<PulledImage, RegistryError> {
    let tap = ScanTap::new(ctx.paths.layer_scans());
    client
        .pull_tapped(reference, platforms, store, progress, Some(&tap))
        .await
}

/// The one line a pull prints per image.
pub fn summary(p: &PulledImage) -> String {
    let platforms = if p.manifests.len() > 1 {
        let names: Vec<String> = p
            .manifests
            .iter()
            .filter_map(|(pl, _)| pl.as_ref().map(|x| x.to_string()))
            .collect();
        format!(", {}", names.join(" "))
    } else {
        String::new()
    };
    format!(
        "pulled {} {} ({} layers, {}, {} of {} blobs new{platforms})",
        p.reference,
        p.digest,
        p.layers,
        ByteSize::b(p.size).display().iec(),
        p.fetched,
        p.blobs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_registries_come_from_the_preferences_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config.yaml");
        assert!(insecure_registries_from(&f).unwrap().is_empty());
        std::fs::write(
            &f,
            "theme: dark\ninsecureRegistries: [\"10.0.0.5:5000\", reg.lan]\n",
        )
        .unwrap();
        assert_eq!(
            insecure_registries_from(&f).unwrap(),
            vec!["10.0.0.5:5000", "reg.lan"]
        );
        std::fs::write(&f, "insecureRegistries: 3\n").unwrap();
        let e = format!("{:#}", insecure_registries_from(&f).unwrap_err());
        assert!(
            e.contains("config.yaml") && e.contains("insecureRegistries"),
            "{e}"
        );
    }
}
