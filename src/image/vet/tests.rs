use super::*;

fn walk(
    layer: &str,
    entries: &[(&str, EntryType, u32, Option<&str>)],
) -> Result<LayerFacts, VetError> {
    let mut w = Walker::new(layer);
    for (rel, kind, mode, link) in entries {
        w.entry(&Entry {
            raw: rel,
            rel,
            kind: *kind,
            mode: *mode,
            link: link.map(Some),
        })?;
    }
    Ok(w.finish(Digest::of(layer.as_bytes())))
}

const F: EntryType = EntryType::Regular;
const S: EntryType = EntryType::Symlink;

#[test]
fn a_write_through_an_earlier_symlink_of_the_same_layer_is_refused() {
    let e = walk("l", &[("a", S, 0o777, None), ("a/x", F, 0o644, None)]).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("\"a/x\"") && text.contains("symlink \"a\""),
        "{text}"
    );
    // A symlink replaced by a file is no longer a symlink.
    let facts = walk("l", &[("a", S, 0o777, None), ("a", F, 0o644, None)]).unwrap();
    assert!(facts.symlinks.is_empty());
}

#[test]
fn devices_and_fifos_are_refused_and_setuid_noted() {
    for kind in [EntryType::Char, EntryType::Block, EntryType::Fifo] {
        assert!(matches!(
            walk("l", &[("dev/mem", kind, 0o666, None)]),
            Err(VetError::Special { .. })
        ));
    }
    let facts = walk(
        "l",
        &[("bin/su", F, 0o4755, None), ("bin/ls", F, 0o755, None)],
    )
    .unwrap();
    assert_eq!(facts.setuid, ["bin/su"]);
}

#[test]
fn hard_links_through_symlinks_or_outside_are_refused() {
    let e = walk(
        "l",
        &[
            ("a", S, 0o777, None),
            ("h", EntryType::Link, 0o644, Some("a/shadow")),
        ],
    );
    assert!(matches!(
        e,
        Err(VetError::Through {
            how: "hard-link",
            ..
        })
    ));
    let mut w = Walker::new("l");
    let outside = w.entry(&Entry {
        raw: "h",
        rel: "h",
        kind: EntryType::Link,
        mode: 0,
        link: Some(None),
    });
    assert!(matches!(outside, Err(VetError::LinkOutside { .. })));
}

fn layer<'a>(
    d: &'a Digest,
    facts: &'a LayerFacts,
    wh: &'a [String],
    only: Option<&'a str>,
) -> TreeLayer<'a> {
    TreeLayer {
        image: "img",
        layer: d,
        facts,
        whiteouts: wh,
        opaque: &[],
        only,
    }
}

#[test]
fn later_layers_may_not_write_or_delete_through_a_lower_symlink() {
    let (d1, d2) = (Digest::of(b"1"), Digest::of(b"2"));
    let low = walk("1", &[("etc", S, 0o777, None)]).unwrap();
    let high = walk("2", &[("etc/passwd", F, 0o644, None)]).unwrap();
    let e = compose([layer(&d1, &low, &[], None), layer(&d2, &high, &[], None)]).unwrap_err();
    assert!(e.to_string().contains("etc/passwd"), "{e}");
    let wh = ["etc/shadow".to_string()];
    let empty = LayerFacts::default();
    let e = compose([layer(&d1, &low, &[], None), layer(&d2, &empty, &wh, None)]).unwrap_err();
    assert!(matches!(e, VetError::Through { how: "delete", .. }), "{e}");
    // A directory entry over a lower symlink is refused too.
    let dir = walk("3", &[("etc", EntryType::Directory, 0o755, None)]).unwrap();
    assert!(compose([layer(&d1, &low, &[], None), layer(&d2, &dir, &[], None)]).is_err());
    // Whiting out the symlink itself, then writing a dir there, is fine.
    let gone = ["etc".to_string()];
    compose([layer(&d1, &low, &[], None), layer(&d2, &high, &gone, None)]).unwrap();
    // Only the registry part of an application layer lands in the rootfs.
    compose([
        layer(&d1, &low, &[], None),
        layer(&d2, &high, &[], Some("registry")),
    ])
    .unwrap();
}

#[test]
fn diff_ids_must_match_the_config() {
    let d = Digest::of(b"blob");
    let facts = walk("x", &[("a", F, 0o644, None)]).unwrap();
    let honest = facts.diff_id.clone().unwrap();
    check_diff_ids(&[honest], [(&d, &facts)].into_iter()).unwrap();
    let e = check_diff_ids(&[Digest::of(b"other")], [(&d, &facts)].into_iter()).unwrap_err();
    assert!(e.to_string().contains(&d.to_string()), "{e}");
    assert!(check_diff_ids(&[], [(&d, &facts)].into_iter()).is_err());
}
