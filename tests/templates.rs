//! The Go-template subset: every construct and function against what Go's
//! text/template + sprig print (cases from the official labring images'
//! templates included), errors with file:line:column, and rendering an
//! image tree in place.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tug::template::{RenderDirError, RenderOptions, Template, render_rootfs, render_str};

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The env of a containerd rootfs image as sealos would pass it.
fn image_env() -> BTreeMap<String, String> {
    data(&[
        ("criData", "/var/lib/containerd"),
        ("registryDomain", "sealos.hub"),
        ("registryPort", "5000"),
        ("registryUsername", "admin"),
        ("sandboxImage", "pause:3.9"),
        ("disableApparmor", "false"),
        ("SEALOS_SYS_KUBE_VERSION", "v1.28.9"),
        (
            "SEALOS_SYS_CRI_ENDPOINT",
            "/var/run/containerd/containerd.sock",
        ),
        ("SEALOS_SYS_RUN_MODE", "master,registry"),
        ("empty", ""),
    ])
}

fn render(src: &str, env: &BTreeMap<String, String>) -> String {
    render_str("t.tmpl", src, env).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

fn check_table(env: &BTreeMap<String, String>, cases: &[(&str, &str)]) {
    for (src, want) in cases {
        assert_eq!(render(src, env), *want, "template {src:?}");
    }
}

#[test]
fn fields_missing_keys_and_truth() {
    check_table(
        &image_env(),
        &[
            (
                r#"root = "{{ .criData }}""#,
                r#"root = "/var/lib/containerd""#,
            ),
            ("{{.registryDomain}}:{{ .registryPort }}", "sealos.hub:5000"),
            ("[{{ .missing }}]", "[<no value>]"),
            ("[{{ .empty }}]", "[]"),
            (
                "disable_apparmor = {{ .disableApparmor }}",
                "disable_apparmor = false",
            ),
            // Values are strings: "false" is a non-empty string, so true.
            ("{{ if .disableApparmor }}yes{{ end }}", "yes"),
            ("{{ if .empty }}a{{ else }}b{{ end }}", "b"),
            ("{{ if .missing }}a{{ else }}b{{ end }}", "b"),
            (
                "{{ if .missing }}a{{ else if .criData }}b{{ else }}c{{ end }}",
                "b",
            ),
            (
                "{{ if .missing }}a{{ else if .empty }}b{{ else }}c{{ end }}",
                "c",
            ),
            (
                "{{ if .criData }}{{ if .empty }}x{{ else }}y{{ end }}{{ end }}",
                "y",
            ),
            ("{{ .missing.deeper }}", "<no value>"),
            // sealctl render also exposes the env as .Env; .Values is empty.
            (
                "{{ .Env.registryDomain }} {{ .Values.x }}",
                "sealos.hub <no value>",
            ),
            (
                "{{ true }} {{ false }} {{ 42 }} {{ -3 }} {{ 1.5 }} {{ 0x10 }} {{ 1e6 }}",
                "true false 42 -3 1.5 16 1e+06",
            ),
            (r#"{{ "a\tb\u00e9" }}|{{ `raw\t` }}"#, "a\tbé|raw\\t"),
            ("a{{/* a comment */}}b", "ab"),
            ("{{ \"}}\" }}", "}}"),
            ("{{ .criData\n}}", "/var/lib/containerd"),
        ],
    );
}

#[test]
fn whitespace_trimming() {
    check_table(
        &image_env(),
        &[
            ("{{ 23 -}} < {{- 45 }}", "23<45"),
            ("a  \n\t{{- .registryPort }}", "a5000"),
            ("{{ .registryPort -}} \n\t b", "5000b"),
            (
                "line1\n{{- if true }}\nX\n{{- end }}\nline2",
                "line1\nX\nline2",
            ),
            ("a \n{{- /* gone */ -}}\n b", "ab"),
            ("{{-3}}", "-3"),
            (
                "x\n{{- if .empty }}\nA\n{{- else }}\nB\n{{- end }}\n",
                "x\nB\n",
            ),
        ],
    );
}

#[test]
fn boolean_and_comparison_builtins_follow_go() {
    let env = data(&[("a", "x"), ("b", "y"), ("empty", ""), ("port", "5000")]);
    check_table(
        &env,
        &[
            // and/or return the deciding value, not a bool.
            ("{{ and .a .b }}", "y"),
            ("{{ and .empty .b }}", ""),
            ("{{ and .missing .b }}", "<no value>"),
            ("{{ or .empty .a }}", "x"),
            ("{{ or .empty .missing }}", "<no value>"),
            ("{{ or .a .b }}", "x"),
            ("{{ .b | and .a }}", "y"),
            // Short-circuit: the erroring call is never evaluated.
            (r#"{{ or .a (semverCompare "^1" .missing) }}"#, "x"),
            (
                r#"{{ and .missing (contains "m" .missing) }}"#,
                "<no value>",
            ),
            (
                "{{ not .missing }} {{ not .a }} {{ not 0 }}",
                "true false true",
            ),
            (
                r#"{{ eq .missing "" }} {{ eq .empty "" }} {{ eq .missing .missing2 }}"#,
                "false true true",
            ),
            (
                r#"{{ eq .port "6000" "5000" }} {{ ne .port "5000" }}"#,
                "true false",
            ),
            (
                r#"{{ lt "a" "b" }} {{ lt 1 2 }} {{ le 3 2 }} {{ gt 1.5 2.5 }} {{ ge 2 2 }}"#,
                "true true false false true",
            ),
            (r#"{{ not (eq .port "5000") }}"#, "false"),
            (
                r#"{{ if and (eq .a "x") (ne .b "x") }}both{{ end }}"#,
                "both",
            ),
        ],
    );
}

#[test]
fn sprig_functions() {
    let env = image_env();
    check_table(
        &env,
        &[
            (
                r#"ExecStart={{ default "/usr/bin" .BIN_DIR }}/containerd"#,
                "ExecStart=/usr/bin/containerd",
            ),
            (
                r#"{{ default "d" .empty }} {{ default "d" .criData }}"#,
                "d /var/lib/containerd",
            ),
            ("{{ default .missing .missing2 }}", "<no value>"),
            (r#"{{ .missing | default "x" }}"#, "x"),
            (
                r#"mountPermissions: {{ default "0" .mountPermissions | quote }}"#,
                r#"mountPermissions: "0""#,
            ),
            (
                r#"{{ "a\"b\n" | quote }}|{{ quote .missing }}|{{ quote "a" "b" }}"#,
                r#""a\"b\n"||"a" "b""#,
            ),
            ("{{ squote .registryDomain }}", "'sealos.hub'"),
            (
                r#"{{ contains "master" .SEALOS_SYS_RUN_MODE }} {{ contains "node" .SEALOS_SYS_RUN_MODE }}"#,
                "true false",
            ),
            (
                r#"{{ hasPrefix "sealos" .registryDomain }} {{ hasSuffix ".hub" .registryDomain }} {{ hasPrefix "hub" .registryDomain }}"#,
                "true true false",
            ),
            (
                r#"[{{ trim "  x y \n" }}] {{ upper "abc" }} {{ lower "AbC" }}"#,
                "[x y] ABC abc",
            ),
            (
                r#"{{ replace "." "-" .registryDomain }} {{ .registryDomain | replace "sealos" "my" }}"#,
                "sealos-hub my.hub",
            ),
            (
                r#"{{ trimSuffix ".hub" .registryDomain }} {{ trimPrefix "sealos." .registryDomain }} {{ trunc 3 "abcdef" }}"#,
                "sealos hub abc",
            ),
            (r#"{{ b64enc "admin:passw0rd" }}"#, "YWRtaW46cGFzc3cwcmQ="),
            (
                r#"{{ empty .missing }} {{ empty .empty }} {{ empty "0" }} {{ empty 0 }}"#,
                "true true false true",
            ),
            (
                r#"{{ true | ternary "a" "b" }} {{ ternary "a" "b" false }}"#,
                "a b",
            ),
            (
                r#"{{ printf "%s:%d" .registryDomain 5000 }} {{ printf "%q" .registryDomain }} {{ printf "%v" .missing }}"#,
                r#"sealos.hub:5000 "sealos.hub" <nil>"#,
            ),
            (
                r#"{{ "x" | printf "%s-%s" "a" }} {{ printf "%d" "s" }}"#,
                "a-x %!d(string=s)",
            ),
            (
                r#"{{ print "a" 1 2 "b" }} {{ len .registryDomain }} {{ toString 7 }}"#,
                "a1 2b 10 7",
            ),
            (
                r#"{{ coalesce .empty .missing "c" }} {{ cat "a" .missing "b" }}"#,
                "c a b",
            ),
            (
                "{{ \"a\\nb\" | indent 2 }}|{{ \"a\" | nindent 4 }}",
                "  a\n  b|\n    a",
            ),
            (
                r#"{{ semverCompare ">=1.26" .SEALOS_SYS_KUBE_VERSION }} {{ semverCompare "<1.24.0" .SEALOS_SYS_KUBE_VERSION }}"#,
                "true false",
            ),
            (
                r#"{{ semverCompare "~1.25" "v1.25.3" }} {{ semverCompare "^1.27.0" "v1.26.15" }}"#,
                "true false",
            ),
            (
                r#"{{ .registryDomain | upper | quote }}"#,
                r#""SEALOS.HUB""#,
            ),
        ],
    );
}

/// `10-kubeadm.conf.tmpl` of labring-actions/runtime (k8s/etc): the flag
/// is only for kubelets older than 1.27 or an unknown version.
#[test]
fn kubelet_dropin_condition_from_the_official_image() {
    let src = r#"{{ if or (not .SEALOS_SYS_KUBE_VERSION) (eq .SEALOS_SYS_KUBE_VERSION "") (not (semverCompare "^1.27.0" .SEALOS_SYS_KUBE_VERSION)) }}--container-runtime=remote{{ end }}"#;
    let t = Template::parse("10-kubeadm.conf.tmpl", src).unwrap();
    for (version, want) in [
        (Some("v1.28.9"), ""),
        (Some("v1.27.0"), ""),
        (Some("v1.26.15"), "--container-runtime=remote"),
        (Some("v1.25.0"), "--container-runtime=remote"),
        (Some(""), "--container-runtime=remote"),
        (None, "--container-runtime=remote"),
    ] {
        let env = match version {
            Some(v) => data(&[("SEALOS_SYS_KUBE_VERSION", v)]),
            None => data(&[]),
        };
        assert_eq!(t.render(&env).unwrap(), want, "version {version:?}");
    }
}

/// `k3s.service.tmpl`: `and` guards `contains`, which would fail on a
/// missing key.
#[test]
fn k3s_run_mode_from_the_official_image() {
    let src = r#"ExecStart=/usr/bin/k3s {{ if and (.SEALOS_SYS_RUN_MODE) (contains "master" .SEALOS_SYS_RUN_MODE) }}server{{ else }}agent{{end}}"#;
    let t = Template::parse("k3s.service.tmpl", src).unwrap();
    for (mode, want) in [
        (Some("master"), "server"),
        (Some("master,registry"), "server"),
        (Some("node"), "agent"),
        (Some(""), "agent"),
        (None, "agent"),
    ] {
        let env = mode.map_or_else(|| data(&[]), |m| data(&[("SEALOS_SYS_RUN_MODE", m)]));
        assert_eq!(
            t.render(&env).unwrap(),
            format!("ExecStart=/usr/bin/k3s {want}")
        );
    }
    let unguarded = render_str(
        "k3s.tmpl",
        r#"{{ contains "master" .SEALOS_SYS_RUN_MODE }}"#,
        &data(&[]),
    );
    let err = unguarded.unwrap_err().to_string();
    assert!(err.contains("invalid value; expected string"), "{err}");
}

/// (template, expected "file:line:col: message" fragment)
const ERRORS: &[(&str, &str)] = &[
    (
        "line1\n{{ range .x }}{{ end }}",
        "e.tmpl:2:4: unsupported template construct: range",
    ),
    (
        "{{ with .x }}y{{ end }}",
        "e.tmpl:1:4: unsupported template construct: with",
    ),
    (
        r#"{{ define "a" }}x{{ end }}"#,
        "e.tmpl:1:4: unsupported template construct: define",
    ),
    (
        r#"{{ template "a" . }}"#,
        "e.tmpl:1:4: unsupported template construct: template",
    ),
    (
        r#"{{ block "a" . }}x{{ end }}"#,
        "e.tmpl:1:4: unsupported template construct: block",
    ),
    (
        "{{ $x := 1 }}",
        "e.tmpl:1:4: unsupported template construct: variables",
    ),
    (
        "{{ if .a }}{{ else with .b }}{{ end }}",
        "e.tmpl:1:20: unsupported template construct: else with",
    ),
    (
        "a\n\n  {{ toYaml .x }}",
        "e.tmpl:3:6: function \"toYaml\" is not supported",
    ),
    (
        "{{ .a | lookup }}",
        "e.tmpl:1:9: function \"lookup\" is not supported",
    ),
    (
        "{{ (.a).b }}",
        "unsupported template construct: field access on a parenthesized value",
    ),
    ("ok\n{{ .x", "e.tmpl:2:1: unclosed action"),
    ("{{ if .x }}no end", "e.tmpl:1:4: unexpected EOF"),
    (
        "{{ if .x }}a{{ else }}b{{ else }}c{{ end }}",
        "e.tmpl:1:24: unexpected {{else}} after {{else}}",
    ),
    ("x{{ end }}", "e.tmpl:1:2: unexpected {{end}}"),
    ("{{ else }}", "e.tmpl:1:1: unexpected {{else}}"),
    ("{{ \"abc }}", "e.tmpl:1:4: unterminated quoted string"),
    ("{{ `abc }}", "e.tmpl:1:4: unterminated raw quoted string"),
    (r#"{{ "\q" }}"#, "e.tmpl:1:4: invalid escape \\q in string"),
    ("{{ }}", "e.tmpl:1:4: missing value for command"),
    ("{{ if }}x{{ end }}", "missing value for if"),
    (
        r#"{{ .x | "a" }}"#,
        "e.tmpl:1:9: non executable command in pipeline stage 2",
    ),
    (r#"{{ "a" "b" }}"#, "can't give argument to non-function"),
    ("{{ nil }}", "nil is not a command"),
    ("{{ @ }}", "unrecognized character in action: '@'"),
    ("{{ 12abc }}", "bad number syntax"),
    ("{{/* open", "e.tmpl:1:1: unclosed comment"),
    ("{{/* c */ x }}", "comment ends before closing delimiter"),
    // Errors while executing name the place of the call.
    (
        "a\nb {{ . }}",
        "e.tmpl:2:6: unsupported template construct: \".\" as a value",
    ),
    (
        "{{ .k.sub }}",
        "e.tmpl:1:4: can't evaluate field sub in type string",
    ),
    (
        "\n{{ semverCompare \"^1.27.0\" .missing }}",
        "e.tmpl:2:4: invalid value; expected string",
    ),
    (
        r#"{{ semverCompare "^1.27.0" "latest" }}"#,
        "error calling semverCompare: Invalid Semantic Version",
    ),
    (
        r#"{{ semverCompare "^^1" "1.0.0" }}"#,
        "error calling semverCompare: improper constraint",
    ),
    (
        r#"{{ contains "a" }}"#,
        "wrong number of args for contains: want 2 got 1",
    ),
    (
        "{{ upper 3 }}",
        "wrong type for value; expected string; got int",
    ),
    (
        r#"{{ eq 1 "1" }}"#,
        "incompatible types for comparison: int and string",
    ),
    (r#"{{ lt .missing "x" }}"#, "invalid type for comparison"),
    ("{{ eq .k }}", "missing argument for comparison"),
    ("{{ and }}", "wrong number of args for and"),
    ("{{ .k 1 }}", "k is not a method but has arguments"),
    (r#"{{ printf "%x" 1 }}"#, "printf verb %x is not supported"),
];

#[test]
fn errors_name_file_line_column_and_construct() {
    let env = data(&[("k", "v")]);
    for (src, want) in ERRORS {
        match render_str("e.tmpl", src, &env) {
            Ok(out) => panic!("{src:?} rendered {out:?}, expected an error with {want:?}"),
            Err(e) => assert!(
                e.to_string().contains(want),
                "{src:?}: got {e}, want {want:?}"
            ),
        }
    }
}

#[test]
fn parse_errors_surface_even_in_branches_not_taken() {
    let err = render_str(
        "x.tmpl",
        "{{ if false }}{{ toJson .a }}{{ end }}",
        &data(&[]),
    )
    .unwrap_err();
    assert_eq!((err.file.as_str(), err.line, err.column), ("x.tmpl", 1, 18));
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates");
    copy_tree(&fixtures.join("rootfs"), dir.path());
    dir
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn renders_an_image_tree_in_place() {
    let dir = fixture_copy();
    let root = dir.path();
    fs::set_permissions(
        root.join("etc/config.toml.tmpl"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    fs::set_permissions(
        root.join("scripts/init.sh.tmpl"),
        fs::Permissions::from_mode(0o750),
    )
    .unwrap();

    let rendered = render_rootfs(root, &image_env(), &RenderOptions::default()).unwrap();

    let outputs: Vec<String> = rendered
        .iter()
        .map(|r| r.output.display().to_string())
        .collect();
    assert_eq!(
        outputs,
        [
            "etc/config.toml",
            "etc/containerd.service",
            "etc/k3s.service",
            "etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "scripts/init.sh",
            "manifests/storageclass.yaml",
            "statics/audit.yaml",
        ]
    );
    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/expected");
    for out in &outputs {
        let want = fs::read_to_string(expected.join(out)).unwrap();
        assert_eq!(fs::read_to_string(root.join(out)).unwrap(), want, "{out}");
        assert!(
            root.join(format!("{out}.tmpl")).exists() || root.join(format!("{out}.tpl")).exists()
        );
    }
    assert_eq!(mode(&root.join("etc/config.toml")), 0o600);
    assert_eq!(mode(&root.join("scripts/init.sh")), 0o750);
    // Outside the template dirs nothing is rendered; non-templates are untouched.
    assert!(!root.join("charts/demo/templates/cm.yaml").exists());
    assert_eq!(
        fs::read_to_string(root.join("etc/plain.conf")).unwrap(),
        "not a template: {{ .criData }}\n"
    );
}

#[test]
fn clear_removes_templates_and_a_rerun_is_a_no_op() {
    let dir = fixture_copy();
    let root = dir.path();
    let options = RenderOptions {
        remove_templates: true,
        ..RenderOptions::default()
    };
    let first = render_rootfs(root, &image_env(), &options).unwrap();
    assert_eq!(first.len(), 7);
    for r in &first {
        assert!(
            !root.join(&r.template).exists(),
            "{} kept",
            r.template.display()
        );
        assert!(root.join(&r.output).is_file());
    }
    assert!(
        render_rootfs(root, &image_env(), &options)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_bad_template_leaves_the_tree_untouched() {
    let dir = fixture_copy();
    let root = dir.path();
    fs::write(
        root.join("manifests/zz-bad.yaml.tmpl"),
        "ok\n{{ range .x }}{{ end }}\n",
    )
    .unwrap();
    let err = render_rootfs(root, &image_env(), &RenderOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("manifests/zz-bad.yaml.tmpl:2:4: unsupported template construct: range"),
        "{err}"
    );
    assert!(!root.join("etc/containerd.service").exists());
    assert!(!root.join("manifests/storageclass.yaml").exists());
}

#[test]
fn oversized_and_linked_templates_are_refused() {
    let dir = fixture_copy();
    let root = dir.path();
    let small = RenderOptions {
        max_size: 64,
        ..RenderOptions::default()
    };
    let err = render_rootfs(root, &image_env(), &small).unwrap_err();
    assert!(matches!(err, RenderDirError::TooLarge { .. }), "{err}");
    assert!(
        err.to_string().contains("larger than the 64-byte limit"),
        "{err}"
    );

    let dir = fixture_copy();
    let root = dir.path();
    std::os::unix::fs::symlink("/etc/hostname", root.join("etc/host.tmpl")).unwrap();
    let err = render_rootfs(root, &image_env(), &RenderOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "etc/host.tmpl: is a symbolic link; tug does not render templates through links"
    );
}

#[test]
fn an_output_path_that_is_a_link_is_replaced_not_followed() {
    let dir = fixture_copy();
    let root = dir.path();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, root.join("statics/audit.yaml")).unwrap();
    render_rootfs(root, &image_env(), &RenderOptions::default()).unwrap();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert!(
        !fs::symlink_metadata(root.join("statics/audit.yaml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn two_templates_for_one_output_are_an_error() {
    let dir = fixture_copy();
    let root = dir.path();
    fs::write(root.join("etc/k3s.service.tmpl"), "x").unwrap();
    let err = render_rootfs(root, &image_env(), &RenderOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "etc/k3s.service.tmpl and etc/k3s.service.tpl both render to etc/k3s.service"
    );
}

mod env {
    use super::data;
    use std::path::Path;
    use tug::cluster::env::{
        Env, EnvError, EnvInputs, EnvMap, EnvSource, WarningReason, expand_command, expand_label,
    };
    use tug::engine::install::shell::hook;
    use tug::engine::transport::Transport;
    use tug::engine::transport::local::LocalTransport;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn containerd_image_env() -> EnvMap {
        data(&[
            ("PATH", "/usr/local/sbin:/usr/bin"),
            ("criData", "/var/lib/containerd"),
            ("registryDomain", "sealos.hub"),
            ("registryPort", "5000"),
            ("defaultVIP", "10.103.97.2"),
            (
                "SEALOS_SYS_CRI_ENDPOINT",
                "/var/run/containerd/containerd.sock",
            ),
        ])
    }

    #[test]
    fn precedence_image_then_clusterfile_then_flags_then_host() {
        let image = containerd_image_env();
        let cluster = strings(&[
            "criData=/data/containerd",
            "registryPort=5001",
            "only=cluster",
        ]);
        let flags = strings(&["registryPort=5002", "extra=a=b=c"]);
        let resolved = Env::resolve(&EnvInputs {
            image_env: &image,
            rootfs_version: Some("v1.28.9"),
            cluster_env: &cluster,
            flags: &flags,
        })
        .unwrap();
        assert!(resolved.warnings.is_empty());
        let env = resolved.env;
        assert_eq!(env.get("criData"), Some("/data/containerd"));
        assert_eq!(env.get("registryPort"), Some("5002"));
        assert_eq!(env.get("registryDomain"), Some("sealos.hub"));
        assert_eq!(env.get("only"), Some("cluster"));
        assert_eq!(env.get("extra"), Some("a=b=c"));
        assert_eq!(env.get("PATH"), None, "the image's PATH is not exported");

        let host = env
            .for_host(
                "10.0.0.3",
                &strings(&["registryPort=6000"]),
                &strings(&["master", "registry"]),
            )
            .unwrap()
            .env;
        assert_eq!(host.get("registryPort"), Some("6000"));
        assert_eq!(host.get("SEALOS_SYS_RUN_MODE"), Some("master,registry"));
        assert_eq!(env.get("SEALOS_SYS_RUN_MODE"), None);
    }

    #[test]
    fn builtins_for_rootfs_images_only() {
        let image = containerd_image_env();
        let rootfs = Env::resolve(&EnvInputs {
            image_env: &image,
            rootfs_version: Some("v1.28.9"),
            cluster_env: &[],
            flags: &[],
        })
        .unwrap()
        .env;
        assert_eq!(rootfs.get("SEALOS_SYS_KUBE_VERSION"), Some("v1.28.9"));
        assert_eq!(rootfs.get("SEALOS_SYS_SEALOS_VERSION"), Some("5.1.1"));
        assert_eq!(
            rootfs.get("SEALOS_SYS_CRI_ENDPOINT"),
            Some("/var/run/containerd/containerd.sock")
        );
        assert_eq!(
            rootfs.get("SEALOS_SYS_IMAGE_ENDPOINT"),
            Some("/var/run/image-cri-shim.sock")
        );

        let mut newer = image.clone();
        newer.insert("SEALOS_SYS_IMAGE_ENDPOINT".into(), "/run/shim.sock".into());
        let inputs = EnvInputs {
            image_env: &newer,
            rootfs_version: Some(""),
            cluster_env: &[],
            flags: &[],
        };
        let env = Env::resolve(&inputs).unwrap().env;
        assert_eq!(env.get("SEALOS_SYS_IMAGE_ENDPOINT"), Some("/run/shim.sock"));
        assert_eq!(env.get("SEALOS_SYS_KUBE_VERSION"), Some(""));

        let app = Env::resolve(&EnvInputs {
            rootfs_version: None,
            ..inputs
        })
        .unwrap()
        .env;
        assert_eq!(app.get("SEALOS_SYS_KUBE_VERSION"), None);
        assert_eq!(app.get("SEALOS_SYS_SEALOS_VERSION"), None);
    }

    #[test]
    fn users_cannot_set_sealos_sys_keys() {
        let image = containerd_image_env();
        let cluster = strings(&["SEALOS_SYS_KUBE_VERSION=v9.9.9"]);
        let flags = strings(&["SEALOS_SYS_CRI_ENDPOINT=/tmp/evil.sock", "ok=1"]);
        let resolved = Env::resolve(&EnvInputs {
            image_env: &image,
            rootfs_version: Some("v1.28.9"),
            cluster_env: &cluster,
            flags: &flags,
        })
        .unwrap();
        assert_eq!(resolved.env.get("SEALOS_SYS_KUBE_VERSION"), Some("v1.28.9"));
        assert_eq!(
            resolved.env.get("SEALOS_SYS_CRI_ENDPOINT"),
            Some("/var/run/containerd/containerd.sock")
        );
        let shown: Vec<String> = resolved.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "ignoring SEALOS_SYS_KUBE_VERSION from Clusterfile spec.env: SEALOS_SYS* variables are set by tug",
                "ignoring SEALOS_SYS_CRI_ENDPOINT from -e/--env: SEALOS_SYS* variables are set by tug",
            ]
        );
        let host = resolved
            .env
            .for_host(
                "n1",
                &strings(&["SEALOS_SYS_RUN_MODE=master"]),
                &strings(&["node"]),
            )
            .unwrap();
        assert_eq!(host.env.get("SEALOS_SYS_RUN_MODE"), Some("node"));
        assert_eq!(host.warnings[0].origin, EnvSource::Host("n1".into()));
        assert_eq!(host.warnings[0].reason, WarningReason::Reserved);
    }

    #[test]
    fn bad_entries_are_errors_naming_them() {
        let image = EnvMap::new();
        let resolve = |flags: &[String]| {
            Env::resolve(&EnvInputs {
                image_env: &image,
                rootfs_version: None,
                cluster_env: &[],
                flags,
            })
        };
        let err = resolve(&strings(&["a=1", "novalue"])).unwrap_err();
        assert_eq!(err.to_string(), r#"-e/--env: "novalue" is not KEY=VALUE"#);
        let err = resolve(&strings(&["=x"])).unwrap_err();
        assert!(matches!(err, EnvError::BadKey { .. }), "{err}");
        let err = resolve(&strings(&["a-b=x"])).unwrap_err();
        assert!(
            err.to_string()
                .contains(r#""a-b" is not a valid variable name"#),
            "{err}"
        );
        assert!(resolve(&strings(&["empty="])).unwrap().env.get("empty") == Some(""));

        let odd = data(&[("bad-key", "x"), ("nul", "a\0b"), ("good", "y")]);
        let resolved = Env::resolve(&EnvInputs {
            image_env: &odd,
            rootfs_version: None,
            cluster_env: &[],
            flags: &[],
        })
        .unwrap();
        assert_eq!(resolved.env.vars().keys().collect::<Vec<_>>(), ["good"]);
        assert_eq!(resolved.warnings.len(), 2);
        assert_eq!(
            resolved.warnings[0].to_string(),
            "ignoring bad-key from image ENV: it cannot be exported to a shell"
        );
    }

    #[test]
    fn label_expansion() {
        let env = data(&[
            ("defaultVIP", "10.103.97.2"),
            ("registry", "sealos.hub:5000"),
            ("r", "X"),
        ]);
        let cases = [
            ("$defaultVIP", "10.103.97.2"),
            ("${defaultVIP}", "10.103.97.2"),
            ("$(defaultVIP)", "10.103.97.2"),
            (
                "$(registry)/sealos/lvscare:v4",
                "sealos.hub:5000/sealos/lvscare:v4",
            ),
            ("$registry/x $r-$r.y", "sealos.hub:5000/x X-X.y"),
            (
                "$unknown ${unknown} $(unknown)",
                "$unknown ${unknown} $(unknown)",
            ),
            ("$ $( ${ $", "$ $( ${ $"),
            ("plain", "plain"),
        ];
        for (text, want) in cases {
            assert_eq!(expand_label(text, &env), want, "{text}");
        }
    }

    #[test]
    fn command_expansion_like_sealos() {
        let env = data(&[
            ("NAME", "calico"),
            ("NAMESPACE", "tigera-operator"),
            ("HELM_OPTS", ""),
        ]);
        let cases = [
            (
                "helm upgrade -i $(NAME) charts/calico -n $(NAMESPACE) --create-namespace $(HELM_OPTS)",
                "helm upgrade -i calico charts/calico -n tigera-operator --create-namespace ",
            ),
            ("echo ${NAME} $NAME", "echo calico calico"),
            ("echo $$NAME $$(NAME)", "echo $NAME $(NAME)"),
            (
                "echo $(MISSING) ${MISSING} $MISSING",
                "echo $(MISSING) $(MISSING) $(MISSING)",
            ),
            ("cost: 5$", "cost: 5$"),
        ];
        for (text, want) in cases {
            assert_eq!(expand_command(text, &env), want, "{text}");
        }
    }

    /// Values hostile to a shell reach the hook's environment byte for byte
    /// and run nothing; the label's own `$vars` still expand. The hook goes
    /// the way every hook goes: built by the planner's `hook`, run by a
    /// transport (the jump host's own bash, fed the command on stdin).
    #[tokio::test]
    async fn hook_command_runs_in_real_bash_without_executing_values() {
        assert!(super::support::have("bash"), "bash is required");
        let dir = tempfile::tempdir().unwrap();
        let rootfs = dir.path().join("root fs");
        std::fs::create_dir_all(rootfs.join("scripts")).unwrap();
        let canary = dir.path().join("pwned");
        let out = dir.path().join("out");
        std::fs::write(
            rootfs.join("scripts/dump.sh"),
            "printf '%s\\0' \"$PWD\" \"$@\" \"$A\" \"$B\" \"$C\" \"$D\" \"$E\" \"$F\" \"$G\" \"$registryDomain\" > \"$OUT\"\n",
        )
        .unwrap();
        let c = canary.display().to_string();
        let hostile = [
            ("A", format!("$(touch {c})")),
            ("B", format!("`touch {c}`")),
            ("C", format!("; touch {c}; echo ")),
            ("D", format!("'; touch {c}; '")),
            ("E", format!("\"$(touch {c})\"\\")),
            ("F", format!("line1\ntouch {c}\n$HOME ${{x}} * ?")),
            ("G", "ünïcødé 'q' \"dq\" \t tab".to_string()),
        ];
        let mut flags: Vec<String> = hostile.iter().map(|(k, v)| format!("{k}={v}")).collect();
        flags.push(format!("OUT={}", out.display()));
        let image = data(&[("registryDomain", "sealos.hub")]);
        let env = Env::resolve(&EnvInputs {
            image_env: &image,
            rootfs_version: None,
            cluster_env: &[],
            flags: &flags,
        })
        .unwrap()
        .env;

        let cmd = hook(
            &rootfs.display().to_string(),
            &env,
            "dump.sh $registryDomain 'two words'",
        );
        let code = LocalTransport::new()
            .run(&cmd, &mut |_, _| {})
            .await
            .unwrap();
        assert_eq!(code, 0, "{cmd}");
        assert!(!Path::new(&canary).exists(), "a value was executed: {cmd}");

        let written = std::fs::read(&out).unwrap();
        let fields: Vec<&[u8]> = written.split(|b| *b == 0).collect();
        let scripts = rootfs.join("scripts").display().to_string();
        let mut want: Vec<Vec<u8>> = vec![
            scripts.into_bytes(),
            b"sealos.hub".to_vec(),
            b"two words".to_vec(),
        ];
        want.extend(hostile.iter().map(|(_, v)| v.as_bytes().to_vec()));
        want.push(b"sealos.hub".to_vec());
        want.push(Vec::new());
        assert_eq!(fields, want.iter().map(Vec::as_slice).collect::<Vec<_>>());
    }

    #[test]
    fn empty_env_hook_has_no_export() {
        let cmd = hook(
            "/var/lib/sealos/data/default/rootfs/",
            &Env::default(),
            "check.sh $registryData",
        )
        .render()
        .unwrap();
        assert_eq!(
            cmd,
            "cd -- /var/lib/sealos/data/default/rootfs/scripts && bash check.sh $registryData"
        );
    }
}

#[test]
fn hostile_sizes_and_nesting_are_errors_not_crashes() {
    let big = data(&[("big", &"x".repeat(1 << 20))]);
    let src = "{{ .big }}".repeat(100);
    let Err(err) = render_str("big.tmpl", &src, &big) else {
        panic!("100 MiB of output was not refused");
    };
    assert!(
        err.message.contains("rendered output exceeds 64 MiB"),
        "{err}"
    );
    let err = render_str("w.tmpl", r#"{{ printf "%999999999s" "x" }}"#, &big).unwrap_err();
    assert!(
        err.message.contains("printf width 999999999 is too large"),
        "{err}"
    );
    let err = render_str("i.tmpl", r#"{{ indent 9999999999 "x" }}"#, &big).unwrap_err();
    assert!(
        err.message.contains("would exceed the output limit"),
        "{err}"
    );
    let deep_parens = format!("{{{{ {}1{} }}}}", "(".repeat(100), ")".repeat(100));
    let err = render_str("p.tmpl", &deep_parens, &big).unwrap_err();
    assert!(err.message.contains("nested too deeply"), "{err}");
    let deep_ifs = format!("{}x{}", "{{ if 1 }}".repeat(100), "{{ end }}".repeat(100));
    let err = render_str("if.tmpl", &deep_ifs, &big).unwrap_err();
    assert!(err.message.contains("nested too deeply"), "{err}");
    let ok_ifs = format!("{}x{}", "{{ if 1 }}".repeat(30), "{{ end }}".repeat(30));
    assert_eq!(render_str("if.tmpl", &ok_ifs, &big).unwrap(), "x");
}

/// Random mixes of template fragments (multi-byte text next to delimiters,
/// half-open actions, stray keywords) give a result or an error, never a
/// panic.
#[test]
fn arbitrary_input_never_panics() {
    let fragments = [
        "{{",
        "}}",
        "{{-",
        " -}}",
        "{{ ",
        " }}",
        "é",
        "€{{",
        "{{é}}",
        ".",
        ".é",
        "$",
        "(",
        ")",
        "|",
        "\"",
        "`",
        "'",
        "'é'",
        "/*",
        "*/",
        "if ",
        "else ",
        "end",
        "range",
        " .a ",
        "1",
        "-",
        "+1.5e",
        "0x",
        "\\",
        "\n",
        "and ",
        "or ",
        "default ",
        "quote",
        "printf \"%",
        "%d",
        "semverCompare \"^1\" ",
        "\"v1.2\"",
        " nil ",
        "true",
        ":=",
        "=",
        ",",
    ];
    let env = data(&[("a", "v"), ("é", "x")]);
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..20_000 {
        let mut src = String::new();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 12) as usize + 1;
        for i in 0..len {
            let pick = (seed.rotate_left(5 * i as u32) % fragments.len() as u64) as usize;
            src.push_str(fragments[pick]);
        }
        if let Err(e) = render_str("fuzz.tmpl", &src, &env) {
            assert!(e.line >= 1 && e.column >= 1, "{src:?}: {e}");
        }
    }
}
