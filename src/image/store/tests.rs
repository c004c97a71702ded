use super::*;

#[test]
fn a_bad_blob_never_enters_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("images")).unwrap();
    let want = Digest::of(b"good");
    let e = s.put_reader(&b"evil"[..], Some(&want)).unwrap_err();
    assert!(matches!(e, StoreError::DigestMismatch { .. }), "{e}");
    assert!(!s.has_blob(&want));
    assert_eq!(fs::read_dir(s.tmp_dir()).unwrap().count(), 0);
    let d = s.put_reader(&b"good"[..], Some(&want)).unwrap();
    assert_eq!(d.digest, want);
    assert!(s.has_blob(&want));
}

#[test]
fn names_point_at_descriptors_and_gc_keeps_only_reachable_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("images")).unwrap();
    let layer = s.put_bytes(b"layer").unwrap();
    let config = s.put_bytes(b"{}").unwrap();
    let orphan = s.put_bytes(b"orphan").unwrap();
    let m = serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": config.to_string(), "size": 2},
        "layers": [{"mediaType": media::OCI_LAYER_TAR, "digest": layer.to_string(), "size": 5}]
    });
    let mb = serde_json::to_vec(&m).unwrap();
    let md = s.put_bytes(&mb).unwrap();
    let r: Reference = "example.com/a/b:v1".parse().unwrap();
    s.set_name(
        &r,
        Descriptor::new(media::OCI_MANIFEST, md.clone(), mb.len() as u64),
    )
    .unwrap();
    assert_eq!(s.resolve(&r).unwrap().digest, md);
    assert_eq!(s.gc().unwrap().0, 1);
    assert!(!s.has_blob(&orphan) && s.has_blob(&layer));
    s.remove_name(&r).unwrap();
    assert!(matches!(s.resolve(&r), Err(StoreError::NotFound(_))));
    assert_eq!(s.gc().unwrap().0, 3);
}

#[test]
fn gc_waits_for_writers_so_a_blob_about_to_be_named_survives() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("images")).unwrap();
    let guard = s.writing().unwrap();
    let blob = s.put_bytes(b"not named yet").unwrap();
    let gc = {
        let s = s.clone();
        std::thread::spawn(move || s.gc().unwrap())
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(s.has_blob(&blob), "gc ran while a writer held the store");
    let r: Reference = "example.com/w:v1".parse().unwrap();
    s.set_name(
        &r,
        Descriptor::new("application/octet-stream", blob.clone(), 13),
    )
    .unwrap();
    drop(guard);
    gc.join().unwrap();
    assert!(s.has_blob(&blob));
}

#[test]
fn the_scratch_space_is_hidden_and_what_gone_processes_left_is_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("images");
    // What an older tug left: a visible `images.tmp` of locks and a blob.
    fs::create_dir(dir.path().join("images.tmp")).unwrap();
    fs::write(dir.path().join("images.tmp/gc.lock"), "").unwrap();
    fs::write(dir.path().join("images.tmp/blob-999999999-ab-0"), "x").unwrap();
    let s = Store::open(&root).unwrap();
    assert_eq!(s.tmp_dir(), dir.path().join(".images.tmp"));
    assert!(!dir.path().join("images.tmp").exists());
    // A dead writer's leftovers go on the next open; a live one's stay.
    let dead = s.tmp_dir().join("blob-999999999-ab-0");
    let live = s.tmp_dir().join(format!("layer-{}-0", std::process::id()));
    fs::write(&dead, "x").unwrap();
    fs::create_dir(&live).unwrap();
    Store::open(&root).unwrap();
    assert!(!dead.exists());
    assert!(live.exists());
    let visible: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(visible, ["images"]);
}
