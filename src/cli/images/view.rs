//! The readable text view of `tug inspect`: the same facts as `--json`,
//! aligned for a terminal.

use crate::image::cluster_image::ClusterImage;
use std::fmt::Write;

/// Render an image's contract as aligned `key: value` lines and small tables.
pub fn render(ci: &ClusterImage) -> String {
    let mut out = String::new();
    let none = || "-".to_string();
    let fields: [(&str, String); 10] = [
        ("Name", ci.name.clone()),
        ("Digest", ci.digest.to_string()),
        ("Image ID", ci.id.to_string()),
        ("Type", ci.image_type.to_string()),
        ("Version", ci.version.clone().unwrap_or_else(none)),
        (
            "Sealos version",
            ci.sealos_version.clone().unwrap_or_else(none),
        ),
        ("Platform", ci.platform.clone()),
        ("Created", ci.created.clone().unwrap_or_else(none)),
        (
            "Lvscare image",
            ci.lvscare_image.clone().unwrap_or_else(none),
        ),
        ("VIP", ci.vip.clone().unwrap_or_else(none)),
    ];
    for (k, v) in fields {
        let _ = writeln!(out, "{:<15} {v}", format!("{k}:"));
    }
    let _ = writeln!(out, "{:<15} {}", "Size:", bytesize::ByteSize(ci.size));
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(" ")
        }
    };
    let _ = writeln!(out, "{:<15} {}", "Cmd:", list(&ci.cmd));
    let _ = writeln!(out, "{:<15} {}", "Entrypoint:", list(&ci.entrypoint));
    section(
        &mut out,
        "Scripts",
        ci.scripts.iter().map(|s| {
            let mark = if s.defaulted { "  (default)" } else { "" };
            (s.name.clone(), format!("{}{mark}", s.command))
        }),
    );
    section(&mut out, "Env", ci.env.0.iter().cloned());
    section(
        &mut out,
        "Labels",
        ci.labels.iter().map(|(k, v)| (k.clone(), v.clone())),
    );
    let rows: Vec<Vec<String>> = ci
        .layers
        .iter()
        .map(|l| {
            vec![
                l.digest.to_string(),
                bytesize::ByteSize(l.size).to_string(),
                l.media_type.clone(),
            ]
        })
        .collect();
    let _ = writeln!(out, "Layers:");
    for line in super::super::output::table(&["DIGEST", "SIZE", "MEDIA TYPE"], &rows).lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

fn section(out: &mut String, title: &str, items: impl Iterator<Item = (String, String)>) {
    let items: Vec<(String, String)> = items.collect();
    let _ = writeln!(out, "{title}:");
    if items.is_empty() {
        let _ = writeln!(out, "  -");
    }
    let width = items
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (k, v) in items {
        let _ = writeln!(out, "  {k:<width$}  {v}");
    }
}
