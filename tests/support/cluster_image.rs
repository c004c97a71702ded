//! Small cluster images written straight into a tug store: gzip layers
//! from (path, content, mode) entries and an OCI manifest and config.

use tug::image::oci::{Descriptor, media};
use tug::image::{Reference, Store};

/// A gzip-compressed tar of regular files.
pub fn gz_tar(entries: &[(&str, &str, u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, mode) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_cksum();
        b.append_data(&mut h, name, data.as_bytes()).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// Store an image with this config and these gzip layers under `name`;
/// an empty `rootfs.diff_ids` is filled with the layers' real ones.
pub fn put_image(
    store: &Store,
    name: &str,
    mut config: serde_json::Value,
    layers: &[Vec<u8>],
) -> Reference {
    let ids = &mut config["rootfs"]["diff_ids"];
    if ids.as_array().is_none_or(Vec::is_empty) {
        *ids = layers
            .iter()
            .map(|l| {
                let mut tar = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&l[..]), &mut tar)
                    .unwrap();
                serde_json::Value::from(tug::image::Digest::of(&tar).to_string())
            })
            .collect::<Vec<_>>()
            .into();
    }
    let config = serde_json::to_vec(&config).unwrap();
    let cd = store.put_bytes(&config).unwrap();
    let descs: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            let d = store.put_bytes(l).unwrap();
            serde_json::json!({"mediaType": media::OCI_LAYER_GZIP, "digest": d.to_string(), "size": l.len()})
        })
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": cd.to_string(), "size": config.len()},
        "layers": descs,
    }))
    .unwrap();
    let md = store.put_bytes(&manifest).unwrap();
    let r: Reference = name.parse().unwrap();
    store
        .set_name(
            &r,
            Descriptor::new(media::OCI_MANIFEST, md, manifest.len() as u64),
        )
        .unwrap();
    r
}
