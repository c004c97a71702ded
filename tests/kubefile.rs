//! Kubefile parsing: real labring/sealer Kubefiles and every form the lite
//! build accepts, and invalid ones with the line and column they fail at.

use std::collections::BTreeMap;
use std::path::Path;
use tug::build::kubefile::{Base, Command, Instruction, Kubefile, parse};

fn ok(src: &str) -> Kubefile {
    ok_with(src, &[])
}

fn ok_with(src: &str, args: &[(&str, &str)]) -> Kubefile {
    let args: BTreeMap<String, String> = args
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parse(src, Path::new("Kubefile"), &args).unwrap_or_else(|e| panic!("{e}\n---\n{src}"))
}

fn labels(k: &Kubefile) -> BTreeMap<String, String> {
    k.steps
        .iter()
        .filter_map(|s| match &s.instruction {
            Instruction::Label(p) => Some(p.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn env(k: &Kubefile) -> Vec<(String, String)> {
    k.steps
        .iter()
        .filter_map(|s| match &s.instruction {
            Instruction::Env(p) => Some(p.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

const CONTAINERD: &str = r#"FROM scratch
LABEL init="init-cri.sh \$registryDomain \$registryPort && bash init.sh" \
      clean="clean.sh && bash clean-cri.sh \$criData" \
      check="check.sh \$registryData" \
      init-registry="init-registry.sh \$registryData \$registryConfig" \
      clean-registry="clean-registry.sh \$registryData \$registryConfig" \
      vip="\$defaultVIP"
ENV criData=/var/lib/containerd registryData=/var/lib/registry registryConfig=/etc/registry \
    registryDomain=sealos.hub registryPort=5000 registryUsername=admin registryPassword=passw0rd \
    disableApparmor=false SEALOS_SYS_CRI_ENDPOINT=/var/run/containerd/containerd.sock \
    SEALOS_SYS_IMAGE_ENDPOINT=/var/run/image-cri-shim.sock
COPY . .
"#;

#[test]
fn the_official_containerd_kubefile_keeps_hook_variables_literal() {
    let k = ok(CONTAINERD);
    assert_eq!(k.base, Base::Scratch);
    let l = labels(&k);
    assert_eq!(
        l["init"],
        "init-cri.sh $registryDomain $registryPort && bash init.sh"
    );
    assert_eq!(l["check"], "check.sh $registryData");
    assert_eq!(
        l["clean-registry"],
        "clean-registry.sh $registryData $registryConfig"
    );
    assert_eq!(l["vip"], "$defaultVIP");
    let e = env(&k);
    assert_eq!(e.len(), 10);
    assert_eq!(e[3], ("registryDomain".into(), "sealos.hub".into()));
    assert!(k.warnings.is_empty(), "{:?}", k.warnings);
    assert_eq!(k.steps[2].line, 12);
    assert_eq!(
        k.steps[2].instruction,
        Instruction::Copy {
            sources: vec![".".into()],
            dest: ".".into()
        }
    );
}

#[test]
fn the_sealer_seed_kubefile_with_shell_form_cmds() {
    let k = ok(
        "FROM kubernetes:v1.19.8\nCOPY imageList manifests\nCOPY apollo charts\nCOPY helm /bin\nCMD helm install charts/apollo\nCOPY recommended.yaml manifests\nCMD kubectl apply -f manifests/recommended.yaml\n",
    );
    match &k.base {
        Base::Image { reference, .. } => {
            assert_eq!(
                reference.to_string(),
                "docker.io/library/kubernetes:v1.19.8"
            )
        }
        b => panic!("{b:?}"),
    }
    let cmds: Vec<_> = k
        .steps
        .iter()
        .filter_map(|s| match &s.instruction {
            Instruction::Cmd(c) => Some(c.elements()),
            _ => None,
        })
        .collect();
    assert_eq!(
        cmds,
        vec![
            vec!["helm install charts/apollo".to_string()],
            vec!["kubectl apply -f manifests/recommended.yaml".to_string()]
        ]
    );
}

#[test]
fn json_forms_flags_and_keyword_case() {
    let k = ok(
        "from --platform=linux/arm64 labring/kubernetes:v1.24.0\nenv version v1.1.0\nCopy [\"manifests\", \"./manifests\"]\nENTRYPOINT [\"kubectl apply -f manifests/tigera-operator.yaml\"]\ncmd [\"kubectl\", \"apply\", \"-f\", \"x.yaml\"]\nMAINTAINER  tug team <t@example.com>\n",
    );
    assert_eq!(
        k.base,
        Base::Image {
            reference: "labring/kubernetes:v1.24.0".parse().unwrap(),
            platform: Some("linux/arm64".into())
        }
    );
    assert_eq!(env(&k), vec![("version".into(), "v1.1.0".into())]);
    let ins: Vec<_> = k.steps.iter().map(|s| s.instruction.clone()).collect();
    assert_eq!(
        ins[1],
        Instruction::Copy {
            sources: vec!["manifests".into()],
            dest: "./manifests".into()
        }
    );
    assert_eq!(
        ins[2],
        Instruction::Entrypoint(Command::Exec(vec![
            "kubectl apply -f manifests/tigera-operator.yaml".into()
        ]))
    );
    assert_eq!(
        ins[3],
        Instruction::Cmd(Command::Exec(vec![
            "kubectl".into(),
            "apply".into(),
            "-f".into(),
            "x.yaml".into()
        ]))
    );
    assert_eq!(
        ins[4],
        Instruction::Maintainer("tug team <t@example.com>".into())
    );
}

#[test]
fn arg_substitution_defaults_and_build_arg_overrides() {
    let src = "ARG VERSION=v1.25.0\nARG REPO\nFROM ${REPO:-labring}/kubernetes:$VERSION\nARG NAME=calico\nENV NAME=${NAME:-\"x\"} NS=${NAMESPACE:-\"tigera-operator\"} OPTS=${HELM_OPTS:-\"\"}\nLABEL version=${VERSION} both=\"$NAME-${NS}\" single='$NAME'\nCOPY charts/${NAME} charts/\nCMD [\"helm upgrade -i $(NAME) charts/calico -n $(NAMESPACE)\"]\n";
    let k = ok(src);
    match &k.base {
        Base::Image { reference, .. } => {
            assert_eq!(
                reference.to_string(),
                "docker.io/labring/kubernetes:v1.25.0"
            )
        }
        b => panic!("{b:?}"),
    }
    let e = env(&k);
    assert_eq!(e[0], ("NAME".into(), "calico".into()));
    assert_eq!(e[1], ("NS".into(), "tigera-operator".into()));
    assert_eq!(e[2], ("OPTS".into(), "".into()));
    let l = labels(&k);
    assert_eq!(l["version"], "v1.25.0");
    assert_eq!(l["both"], "calico-tigera-operator");
    assert_eq!(l["single"], "$NAME");
    assert!(
        matches!(&k.steps[2].instruction, Instruction::Copy { sources, .. } if sources == &["charts/calico"])
    );
    assert_eq!(
        k.steps[3].instruction,
        Instruction::Cmd(Command::Exec(vec![
            "helm upgrade -i $(NAME) charts/calico -n $(NAMESPACE)".into()
        ]))
    );
    let k = ok_with(src, &[("VERSION", "v1.28.9"), ("REPO", "127.0.0.1:5000/x")]);
    match &k.base {
        Base::Image { reference, .. } => {
            assert_eq!(reference.to_string(), "127.0.0.1:5000/x/kubernetes:v1.28.9")
        }
        b => panic!("{b:?}"),
    }
    let k = ok_with("FROM scratch\n", &[("UNUSED", "1")]);
    assert!(k.warnings[0].contains("UNUSED"), "{:?}", k.warnings);
}

#[test]
fn unescaped_dollars_warn_with_their_position() {
    let k = ok("FROM scratch\nLABEL check=\"check.sh $registryData\"\n");
    assert_eq!(labels(&k)["check"], "check.sh ");
    assert!(
        k.warnings[0].starts_with("Kubefile:2:23: $registryData is not set"),
        "{:?}",
        k.warnings
    );
}

#[test]
fn comments_and_blank_lines_inside_continuations() {
    let k = ok(
        "# leading comment\n\nFROM scratch\n   # indented comment\nENV A=1 \\\n    # a comment inside\n\n    B=\"two words\" \\\n    C=3\nLABEL \"quoted.key\"=\"v\" plain=x\\ y\n",
    );
    assert_eq!(
        env(&k),
        vec![
            ("A".into(), "1".into()),
            ("B".into(), "two words".into()),
            ("C".into(), "3".into())
        ]
    );
    let l = labels(&k);
    assert_eq!(l["quoted.key"], "v");
    assert_eq!(l["plain"], "x y");
    assert_eq!(k.steps[1].line, 10);
}

#[test]
fn invalid_kubefiles_fail_at_the_right_line_and_column() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("", 1, 1, "no FROM instruction"),
        ("COPY a b\n", 1, 1, "expected FROM before COPY"),
        (
            "FROM scratch\nRUN make\n",
            2,
            1,
            "a lite build runs nothing",
        ),
        ("FROM scratch\n  RUN \\\n  make\n", 2, 3, "COPY them"),
        ("FROM scratch\nADD x.tgz /\n", 2, 1, "ADD is not supported"),
        (
            "FROM scratch\nWORKDIR /x\n",
            2,
            1,
            "WORKDIR is not supported",
        ),
        (
            "FROM scratch\nFOO bar\n",
            2,
            1,
            "unknown instruction \"FOO\"",
        ),
        ("FROM scratch\nFROM scratch\n", 2, 1, "multi-stage"),
        ("FROM\n", 1, 5, "FROM needs an image"),
        ("FROM Bad/Name\n", 1, 6, "lowercase"),
        ("FROM --arch=x scratch\n", 1, 6, "unsupported FROM flag"),
        ("FROM scratch AS build\n", 1, 14, "stage names"),
        (
            "FROM scratch\nCOPY onlyone\n",
            2,
            6,
            "needs a source and a destination",
        ),
        (
            "FROM scratch\nCOPY --chown=1:1 a b\n",
            2,
            6,
            "--chown is not supported",
        ),
        ("FROM scratch\nCOPY --from=build a b\n", 2, 6, "multi-stage"),
        ("FROM scratch\nENV\n", 2, 4, "ENV needs a key and a value"),
        ("FROM scratch\nENV A=1 B\n", 2, 9, "\"B\" is not KEY=VALUE"),
        (
            "FROM scratch\nENV ONLYKEY\n",
            2,
            12,
            "ENV ONLYKEY needs a value",
        ),
        (
            "FROM scratch\nLABEL a=\"open\n",
            2,
            9,
            "unterminated \" quote",
        ),
        (
            "FROM scratch\nLABEL a='open\n",
            2,
            9,
            "unterminated ' quote",
        ),
        ("FROM scratch\nLABEL a=${oops\n", 2, 9, "unterminated ${"),
        (
            "FROM scratch\nLABEL a=${1x}\n",
            2,
            11,
            "expected a variable name",
        ),
        (
            "FROM scratch\nLABEL a=${X/y/z}\n",
            2,
            12,
            "unsupported modifier",
        ),
        (
            "FROM scratch\nLABEL \\\n  a=1 \\\n  b\n",
            4,
            3,
            "\"b\" is not KEY=VALUE",
        ),
        (
            "FROM scratch\nCMD [\"a\", 1]\n",
            2,
            11,
            "not a valid JSON array",
        ),
        ("FROM scratch\nENTRYPOINT []\n", 2, 12, "runs nothing"),
        ("FROM scratch\nCMD\n", 2, 4, "CMD needs a command"),
        (
            "FROM scratch\nMAINTAINER\n",
            2,
            11,
            "MAINTAINER needs a name",
        ),
        ("ARG 9lives\nFROM scratch\n", 1, 5, "is not a variable name"),
    ];
    for (src, line, column, needle) in cases {
        let e = parse(src, Path::new("dir/Kubefile"), &BTreeMap::new())
            .err()
            .unwrap_or_else(|| panic!("parsed: {src:?}"));
        let msg = e.to_string();
        assert!(
            e.line == *line && e.column == *column && msg.contains(needle),
            "{src:?}: expected {line}:{column} containing {needle:?}, got {msg}"
        );
        assert!(
            msg.starts_with(&format!("dir/Kubefile:{line}:{column}: ")),
            "{msg}"
        );
    }
}
