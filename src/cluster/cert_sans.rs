//! Extra names for the API server certificate (`tug cert --alt-names`),
//! kept in the Clusterfile's ClusterConfiguration (`apiServer.certSANs`)
//! so every later run renders them into the kubeadm configuration again.

use super::clusterfile::{Clusterfile, Document};
use serde_yaml::{Mapping, Value};
use std::net::IpAddr;

/// Check one name: an IP address or a DNS name (`*.` allowed first).
pub fn check_san(name: &str) -> Result<(), String> {
    if name.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let host = name.strip_prefix("*.").unwrap_or(name);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !host.is_empty() && host.len() <= 253 && host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!("{name:?} is neither an IP address nor a DNS name"))
    }
}

/// Add `sans` to the certSANs of the Clusterfile's first
/// ClusterConfiguration (one of `api_version` is added when it has none);
/// returns the names that were not there yet.
pub fn add_cert_sans(
    cf: &mut Clusterfile,
    api_version: &str,
    sans: &[String],
) -> Result<Vec<String>, String> {
    let index = match cf
        .documents
        .iter()
        .position(|d| d.kind == "ClusterConfiguration")
    {
        Some(i) => i,
        None => {
            let mut doc = Mapping::new();
            doc.insert("apiVersion".into(), api_version.into());
            doc.insert("kind".into(), "ClusterConfiguration".into());
            cf.documents.push(Document {
                kind: "ClusterConfiguration".into(),
                value: Value::Mapping(doc),
                text: None,
            });
            cf.documents.len() - 1
        }
    };
    let doc = &mut cf.documents[index].value;
    let root = doc
        .as_mapping_mut()
        .ok_or("the ClusterConfiguration is not a map")?;
    let server = root
        .entry("apiServer".into())
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if server.is_null() {
        *server = Value::Mapping(Mapping::new());
    }
    let server = server
        .as_mapping_mut()
        .ok_or("ClusterConfiguration.apiServer is not a map")?;
    let list = server
        .entry("certSANs".into())
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if list.is_null() {
        *list = Value::Sequence(Vec::new());
    }
    let list = list
        .as_sequence_mut()
        .ok_or("ClusterConfiguration.apiServer.certSANs is not a list")?;
    let mut added = Vec::new();
    for san in sans {
        if !list.iter().any(|v| v.as_str() == Some(san)) {
            list.push(Value::from(san.as_str()));
            added.push(san.clone());
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::model::Cluster;

    #[test]
    fn names_are_checked_and_added_once_to_a_cluster_configuration() {
        for ok in [
            "10.0.0.9",
            "fd00::1",
            "api.example.com",
            "*.example.com",
            "localhost",
        ] {
            assert_eq!(check_san(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a b", "-x.com", "x..com", "$(id)", "a/b"] {
            assert!(check_san(bad).is_err(), "{bad}");
        }
        let mut cf = Clusterfile::new(Cluster::default());
        let sans = vec!["a.example".to_string(), "10.0.0.9".to_string()];
        let added = add_cert_sans(&mut cf, "kubeadm.k8s.io/v1beta3", &sans).unwrap();
        assert_eq!(added, sans);
        let again = add_cert_sans(
            &mut cf,
            "kubeadm.k8s.io/v1beta3",
            &["b.example".into(), "a.example".into()],
        )
        .unwrap();
        assert_eq!(again, ["b.example"]);
        let doc = &cf.documents[0];
        assert_eq!(doc.kind, "ClusterConfiguration");
        let list: Vec<&str> = doc.value["apiServer"]["certSANs"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(list, ["a.example", "10.0.0.9", "b.example"]);
        assert_eq!(doc.value["apiVersion"], "kubeadm.k8s.io/v1beta3");
    }
}
