//! What the API server says of its nodes, read from one `kubectl get nodes`
//! with a jsonpath that prints a line per node and per condition. The
//! output comes from a host: every field is kept as data (never run,
//! shown only through [`crate::sanitize`]), lines that fit no shape are
//! ignored, and the whole is capped by the caller.

use std::net::IpAddr;

/// Prints `node\t<name>\t<InternalIPs>\t<kubelet version>` for each node,
/// then `cond\t<type>\t<status>\t<reason>\t<message>` for each of its
/// conditions. The message comes last, so a tab inside it stays in it.
pub const NODES_JSONPATH: &str = concat!(
    r#"jsonpath={range .items[*]}{"node\t"}{.metadata.name}{"\t"}"#,
    r#"{.status.addresses[?(@.type=="InternalIP")].address}{"\t"}"#,
    r#"{.status.nodeInfo.kubeletVersion}{"\n"}"#,
    r#"{range .status.conditions[*]}{"cond\t"}{.type}{"\t"}{.status}{"\t"}"#,
    r#"{.reason}{"\t"}{.message}{"\n"}{end}{end}"#
);

/// One condition of a node (`Ready`, `MemoryPressure`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// Its type.
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// A one-word reason (`KubeletNotReady`).
    pub reason: String,
    /// What the kubelet says.
    pub message: String,
}

impl Condition {
    /// Whether this condition says something is wrong: `Ready` not `True`,
    /// or any other (pressure, network unavailable) `True`.
    pub fn is_bad(&self) -> bool {
        if self.kind == "Ready" {
            self.status != "True"
        } else {
            self.status == "True"
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.kind, self.status)?;
        match (self.reason.is_empty(), self.message.is_empty()) {
            (true, true) => Ok(()),
            (false, true) => write!(f, " ({})", self.reason),
            (true, false) => write!(f, " ({})", self.message),
            (false, false) => write!(f, " ({}: {})", self.reason, self.message),
        }
    }
}

/// A node as the API server knows it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Node {
    /// `metadata.name`.
    pub name: String,
    /// Its InternalIP addresses (two on a dual-stack node).
    pub ips: Vec<IpAddr>,
    /// The kubelet's version (`v1.28.9`).
    pub version: String,
    /// Its conditions, in the API server's order.
    pub conditions: Vec<Condition>,
}

impl Node {
    /// Whether its `Ready` condition is `True`.
    pub fn is_ready(&self) -> bool {
        self.conditions
            .iter()
            .any(|c| c.kind == "Ready" && c.status == "True")
    }

    /// Its conditions that say something is wrong, `; `-separated; when it
    /// has no Ready condition at all, says so.
    pub fn problems(&self) -> String {
        let mut bad: Vec<String> = self
            .conditions
            .iter()
            .filter(|c| c.is_bad())
            .map(ToString::to_string)
            .collect();
        if !self.conditions.iter().any(|c| c.kind == "Ready") {
            bad.insert(0, "no Ready condition reported yet".to_string());
        }
        bad.join("; ")
    }
}

/// The nodes in `lines` (output of `kubectl get nodes -o` [`NODES_JSONPATH`]).
pub fn parse(lines: &[String]) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    for line in lines {
        if let Some(rest) = line.strip_prefix("node\t") {
            let mut f = rest.splitn(3, '\t');
            let name = f.next().unwrap_or_default().to_string();
            let ips = f
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect();
            let version = f.next().unwrap_or_default().trim().to_string();
            nodes.push(Node {
                name,
                ips,
                version,
                conditions: Vec::new(),
            });
        } else if let Some(rest) = line.strip_prefix("cond\t")
            && let Some(node) = nodes.last_mut()
        {
            let mut f = rest.splitn(4, '\t');
            let mut next = || f.next().unwrap_or_default().trim().to_string();
            node.conditions.push(Condition {
                kind: next(),
                status: next(),
                reason: next(),
                message: next(),
            });
        }
    }
    nodes
}

/// The node whose InternalIP is `ip`.
pub fn find(nodes: &[Node], ip: IpAddr) -> Option<&Node> {
    nodes.iter().find(|n| n.ips.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn nodes_and_conditions_are_read_and_bad_ones_named() {
        let out = lines(concat!(
            "node\tm1\t10.0.0.1\tv1.28.9\n",
            "cond\tMemoryPressure\tFalse\tKubeletHasSufficientMemory\tok\n",
            "cond\tReady\tTrue\tKubeletReady\tkubelet is posting ready status\n",
            "node\tn$(x)\t10.0.0.2 fd00::2\tv1.28.9\n",
            "cond\tDiskPressure\tTrue\tKubeletHasDiskPressure\tdisk\tfull\n",
            "cond\tReady\tFalse\tKubeletNotReady\tcni plugin not initialized\n",
            "garbage line\n",
            "node\tn3\tnot-an-ip\t\n",
        ));
        let nodes = parse(&out);
        assert_eq!(nodes.len(), 3);
        assert!(nodes[0].is_ready());
        assert_eq!(nodes[0].problems(), "");
        let n2 = find(&nodes, "fd00::2".parse().unwrap()).unwrap();
        assert_eq!(n2.name, "n$(x)");
        assert!(!n2.is_ready());
        assert_eq!(
            n2.problems(),
            "DiskPressure=True (KubeletHasDiskPressure: disk\tfull); \
             Ready=False (KubeletNotReady: cni plugin not initialized)"
        );
        assert!(nodes[2].ips.is_empty());
        assert_eq!(nodes[2].problems(), "no Ready condition reported yet");
        assert!(find(&nodes, "10.0.0.9".parse().unwrap()).is_none());
    }
}
