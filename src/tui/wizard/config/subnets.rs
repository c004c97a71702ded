//! The pod and service subnet fields. One rule keeps them and the override
//! editor from fighting: the fields write `networking.podSubnet` and
//! `networking.serviceSubnet` into the override's (last)
//! ClusterConfiguration, where the editor shows them; otherwise the fields
//! show the merged value of the latest preview. An emptied field removes
//! the setting (back to the image's default).

use super::check::chunks;
use crate::tui::theme::Theme;
use crate::tui::wizard::field::Field;
use crossterm::event::KeyEvent;
use ratatui::text::Line;
use serde_yaml::{Mapping, Value};
use std::net::IpAddr;

/// The rule, as the screen says it.
pub const RULE: &str = "the subnet fields write networking.podSubnet/serviceSubnet into the override's ClusterConfiguration";

/// One subnet field.
#[derive(Clone, Debug)]
pub struct Subnet {
    /// The field (labelled).
    pub field: Field,
    /// Its key under `networking`.
    pub key: &'static str,
    /// Typed since it last showed the merged value.
    pub dirty: bool,
    /// Why the typed text is no subnet.
    pub error: Option<String>,
}

impl Subnet {
    fn new(label: &'static str, key: &'static str) -> Self {
        Subnet {
            field: Field::new(label, "", false),
            key,
            dirty: false,
            error: None,
        }
    }
}

/// The two fields.
#[derive(Clone, Debug)]
pub struct Subnets {
    /// Pod subnet, then service subnet.
    pub items: [Subnet; 2],
}

impl Default for Subnets {
    fn default() -> Self {
        Subnets {
            items: [
                Subnet::new("pod subnet", "podSubnet"),
                Subnet::new("service subnet", "serviceSubnet"),
            ],
        }
    }
}

/// A comma-separated list of CIDRs (kubeadm takes one per IP family).
pub fn check_cidrs(text: &str) -> Result<(), String> {
    for cidr in text.split(',').map(str::trim) {
        let ok = cidr.split_once('/').is_some_and(|(ip, bits)| {
            let width = match ip.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) => 32,
                Ok(IpAddr::V6(_)) => 128,
                Err(_) => return false,
            };
            bits.parse::<u8>().is_ok_and(|b| b <= width)
        });
        if !ok {
            return Err(format!("{cidr:?} is not a CIDR like 10.244.0.0/16"));
        }
    }
    Ok(())
}

impl Subnets {
    /// Show the merged values (fields the user is typing in are kept).
    pub fn sync(&mut self, merged: [Option<String>; 2]) {
        for (s, v) in self.items.iter_mut().zip(merged) {
            if !s.dirty {
                s.field.set(&v.unwrap_or_default());
            }
        }
    }

    /// Type into field `i`.
    pub fn input(&mut self, i: usize, key: KeyEvent) {
        let s = &mut self.items[i];
        if s.field.input(key) {
            s.dirty = true;
            let text = s.field.text().trim();
            s.error = (!text.is_empty())
                .then(|| check_cidrs(text).err())
                .flatten();
        }
    }

    /// The first bad subnet, named.
    pub fn blocking(&self) -> Option<String> {
        self.items
            .iter()
            .find_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.field.label)))
    }

    /// Write every typed, valid field into the override `lines`; the fields
    /// then follow the merged value again.
    pub fn write(&mut self, lines: &[String], api: &str) -> Result<Option<Vec<String>>, String> {
        let mut out: Option<Vec<String>> = None;
        for s in self
            .items
            .iter_mut()
            .filter(|s| s.dirty && s.error.is_none())
        {
            let value = Some(s.field.text().trim()).filter(|v| !v.is_empty());
            let base = out.as_deref().unwrap_or(lines);
            out = Some(set_networking(base, s.key, value, api)?);
            s.dirty = false;
        }
        Ok(out)
    }

    /// The two fields as lines, each followed by its error.
    pub fn lines(&self, focus: Option<usize>, theme: &Theme) -> Vec<Line<'_>> {
        let mut out = Vec::new();
        for (i, s) in self.items.iter().enumerate() {
            out.push(s.field.line(focus == Some(i), theme));
            if let Some(e) = &s.error {
                out.push(Line::styled(format!("  {e}"), theme.error()));
            }
        }
        out
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The override with `networking.<key>` set (or removed) in its last
/// ClusterConfiguration, which is added when there is none. The user's text
/// is edited in place; a layout that cannot be (flow style) is rewritten.
pub fn set_networking(
    lines: &[String],
    key: &str,
    value: Option<&str>,
    api: &str,
) -> Result<Vec<String>, String> {
    let is_cluster =
        |v: &Value| v.get("kind").and_then(Value::as_str) == Some("ClusterConfiguration");
    let parsed = |s: usize, e: usize| serde_yaml::from_str::<Value>(&lines[s..e].join("\n"));
    let target = chunks(lines)
        .into_iter()
        .rev()
        .find(|&(s, e)| parsed(s, e).is_ok_and(|v| is_cluster(&v)));
    let Some((start, end)) = target else {
        let Some(v) = value else {
            return Ok(lines.to_vec());
        };
        let mut out: Vec<String> = lines.to_vec();
        while out.last().is_some_and(|l| l.trim().is_empty()) {
            out.pop();
        }
        if !out.is_empty() {
            out.push("---".into());
        }
        let doc =
            format!("apiVersion: {api}\nkind: ClusterConfiguration\nnetworking:\n  {key}: {v}");
        out.extend(doc.lines().map(str::to_string));
        return Ok(out);
    };
    let mut chunk: Vec<String> = lines[start..end].to_vec();
    edit_in_place(&mut chunk, key, value);
    let reads_back = serde_yaml::from_str::<Value>(&chunk.join("\n"))
        .ok()
        .is_some_and(|v| {
            v.get("networking")
                .and_then(|n| n.get(key))
                .and_then(Value::as_str)
                == value
        });
    if !reads_back {
        chunk = rewrite(&lines[start..end], key, value)?;
    }
    Ok([&lines[..start], &chunk[..], &lines[end..]].concat())
}

fn edit_in_place(chunk: &mut Vec<String>, key: &str, value: Option<&str>) {
    let Some(net) = chunk.iter().position(|l| l.trim_end() == "networking:") else {
        if let Some(v) = value {
            let last = chunk
                .iter()
                .rposition(|l| is_content(l))
                .map_or(0, |i| i + 1);
            chunk.splice(
                last..last,
                ["networking:".to_string(), format!("  {key}: {v}")],
            );
        }
        return;
    };
    let block_end = chunk[net + 1..]
        .iter()
        .position(|l| is_content(l) && indent(l) == 0)
        .map_or(chunk.len(), |i| net + 1 + i);
    let child = chunk[net + 1..block_end]
        .iter()
        .find(|l| is_content(l))
        .map_or(2, |l| indent(l));
    let found = (net + 1..block_end).find(|&i| {
        indent(&chunk[i]) == child && chunk[i].trim_start().starts_with(&format!("{key}:"))
    });
    match (found, value) {
        (Some(i), Some(v)) => chunk[i] = format!("{}{key}: {v}", " ".repeat(child)),
        (Some(i), None) => {
            chunk.remove(i);
        }
        (None, Some(v)) => chunk.insert(net + 1, format!("{}{key}: {v}", " ".repeat(child))),
        (None, None) => {}
    }
}

/// The document re-serialised with the setting (comments are lost).
fn rewrite(chunk: &[String], key: &str, value: Option<&str>) -> Result<Vec<String>, String> {
    let mut doc: Mapping = serde_yaml::from_str(&chunk.join("\n")).map_err(|e| e.to_string())?;
    let net = doc
        .entry(Value::from("networking"))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if net.is_null() {
        *net = Value::Mapping(Mapping::new());
    }
    let net = net
        .as_mapping_mut()
        .ok_or("ClusterConfiguration.networking in the override is not a map")?;
    match value {
        Some(v) => net.insert(Value::from(key), Value::from(v)),
        None => net.shift_remove(key),
    };
    let text = serde_yaml::to_string(&doc).map_err(|e| e.to_string())?;
    Ok(text.lines().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "kubeadm.k8s.io/v1beta3";

    fn lines(text: &str) -> Vec<String> {
        text.split('\n').map(str::to_string).collect()
    }

    fn set(text: &str, key: &str, value: Option<&str>) -> String {
        set_networking(&lines(text), key, value, API)
            .unwrap()
            .join("\n")
    }

    #[test]
    fn cidrs_are_checked_one_per_family() {
        assert!(check_cidrs("10.244.0.0/16").is_ok());
        assert!(check_cidrs("10.244.0.0/16, fd00::/56").is_ok());
        let e = check_cidrs("10.300.0.0/16").unwrap_err();
        assert_eq!(e, "\"10.300.0.0/16\" is not a CIDR like 10.244.0.0/16");
        assert!(check_cidrs("10.0.0.0/33").is_err());
        assert!(check_cidrs("10.0.0.0").is_err());
    }

    #[test]
    fn a_cluster_configuration_is_added_when_there_is_none() {
        assert_eq!(
            set("", "podSubnet", Some("10.1.0.0/16")),
            format!(
                "apiVersion: {API}\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 10.1.0.0/16"
            )
        );
        let kubelet = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
        let out = set(kubelet, "serviceSubnet", Some("10.2.0.0/16"));
        assert!(
            out.starts_with(&format!("{kubelet}---\napiVersion: {API}\n")),
            "{out}"
        );
        assert_eq!(
            set(kubelet, "podSubnet", None),
            kubelet,
            "nothing to remove"
        );
    }

    #[test]
    fn the_users_text_is_edited_in_place() {
        let text = "# mine\nkind: ClusterConfiguration\nnetworking:\n    # pods\n    podSubnet: 1.0.0.0/8\nclusterName: x\n";
        let out = set(text, "podSubnet", Some("10.9.0.0/16"));
        assert_eq!(out, text.replace("1.0.0.0/8", "10.9.0.0/16"));
        let out = set(text, "serviceSubnet", Some("10.8.0.0/16"));
        assert!(
            out.contains("networking:\n    serviceSubnet: 10.8.0.0/16\n    # pods"),
            "{out}"
        );
        let out = set(text, "podSubnet", None);
        assert_eq!(
            out,
            "# mine\nkind: ClusterConfiguration\nnetworking:\n    # pods\nclusterName: x\n"
        );
        let out = set(
            "kind: ClusterConfiguration\nclusterName: x\n",
            "podSubnet",
            Some("10.1.0.0/16"),
        );
        assert_eq!(
            out,
            "kind: ClusterConfiguration\nclusterName: x\nnetworking:\n  podSubnet: 10.1.0.0/16\n"
        );
    }

    #[test]
    fn flow_style_is_rewritten_and_the_last_cluster_configuration_wins() {
        let text = "kind: ClusterConfiguration\n---\nkind: ClusterConfiguration\nnetworking: {dnsDomain: a.local}\n";
        let out = set(text, "podSubnet", Some("10.1.0.0/16"));
        let second: Value = serde_yaml::from_str(out.split("---\n").nth(1).unwrap()).unwrap();
        assert_eq!(second["networking"]["podSubnet"], "10.1.0.0/16");
        assert_eq!(second["networking"]["dnsDomain"], "a.local");
        assert!(
            out.starts_with("kind: ClusterConfiguration\n---\n"),
            "{out}"
        );
    }

    #[test]
    fn typed_fields_are_checked_and_written_once() {
        use crossterm::event::{KeyCode, KeyModifiers};
        let mut s = Subnets::default();
        s.sync([Some("100.64.0.0/10".into()), Some("10.96.0.0/22".into())]);
        for _ in 0..5 {
            s.input(0, KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        }
        s.input(0, KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE));
        assert_eq!(
            s.blocking().unwrap(),
            "pod subnet: \"100.64.0x\" is not a CIDR like 10.244.0.0/16"
        );
        assert_eq!(
            s.write(&[], API).unwrap(),
            None,
            "a bad value is not written"
        );
        s.sync([Some("1.0.0.0/8".into()), None]);
        assert_eq!(s.items[0].field.text(), "100.64.0x", "typed text is kept");
        s.input(0, KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        for c in ".0/16".chars() {
            s.input(0, KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        assert!(s.blocking().is_none());
        let out = s.write(&[String::new()], API).unwrap().unwrap();
        assert!(
            out.join("\n").ends_with("  podSubnet: 100.64.0.0/16"),
            "{out:?}"
        );
        assert_eq!(s.write(&out, API).unwrap(), None, "written once");
    }
}
