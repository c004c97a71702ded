//! Opens the local side of a [`Source`] as one byte stream, only when its
//! step runs: files chained one after another, or a tar made on the fly by
//! a thread writing into a pipe (optionally gzip/zstd compressed). Memory
//! stays bounded by the pipe and a few buffers; nothing is copied to disk.

use super::plan::{Compression, LocalFile, Source};
use super::transport::ByteStream;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

/// Open `source` for reading.
pub async fn open(source: &Source) -> io::Result<ByteStream<'static>> {
    match source {
        Source::Files(files) => open_files(files).await,
        Source::Compressed { file, with } => {
            // Checked like a plain file before the thread takes it.
            drop(open_files(std::slice::from_ref(file)).await?);
            let path = file.path.clone();
            let with = *with;
            write_through_pipe(move |out| {
                let mut input = std::fs::File::open(&path)?;
                encode(out, with, |w| io::copy(&mut input, w).map(drop))
            })
        }
        Source::Tar {
            dir,
            paths,
            compress,
            ..
        } => open_tar(dir.clone(), paths.clone(), *compress),
        Source::WithoutRegistry {
            file,
            stored,
            cache,
        } => {
            drop(open_files(std::slice::from_ref(file)).await?);
            let name = super::layer_split::derived_name(&file.identity);
            let made =
                super::layer_split::without_registry(&file.path, *stored, cache, &name).await?;
            let opened = tokio::fs::File::open(&made)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", made.display())))?;
            Ok(Box::new(opened))
        }
        Source::Fetched { path, .. } => {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            Ok(Box::new(file))
        }
        Source::Clock => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(io::Error::other)?
                .as_secs();
            Ok(Box::new(io::Cursor::new(format!("{now}\n").into_bytes())))
        }
    }
}

async fn open_files(files: &[LocalFile]) -> io::Result<ByteStream<'static>> {
    let mut stream: ByteStream<'static> = Box::new(tokio::io::empty());
    for f in files {
        let file = tokio::fs::File::open(&f.path)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", f.path.display())))?;
        let len = file.metadata().await?.len();
        if len != f.size {
            return Err(io::Error::other(format!(
                "{} is {len} bytes, the plan expected {}",
                f.path.display(),
                f.size
            )));
        }
        stream = Box::new(stream.chain(file));
    }
    Ok(stream)
}

fn open_tar(
    dir: PathBuf,
    paths: Vec<PathBuf>,
    compress: Compression,
) -> io::Result<ByteStream<'static>> {
    write_through_pipe(move |out| encode(out, compress, |w| write_tar(&dir, &paths, w).map(drop)))
}

/// Write `body`'s output into `out` through the compression asked for.
fn encode(
    out: io::PipeWriter,
    with: Compression,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    match with {
        Compression::None => {
            let mut out = out;
            body(&mut out)
        }
        Compression::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
            body(&mut gz)?;
            gz.finish().map(drop)
        }
        Compression::Zstd => {
            let mut z = zstd::stream::write::Encoder::new(out, 3)?;
            body(&mut z)?;
            z.finish().map(drop)
        }
    }
}

/// A stream of what `job` writes on its own thread; a failure of the job
/// becomes a read error at the stream's end.
fn write_through_pipe(
    job: impl FnOnce(io::PipeWriter) -> io::Result<()> + Send + 'static,
) -> io::Result<ByteStream<'static>> {
    let (reader, writer) = io::pipe()?;
    let failure = Arc::new(Mutex::new(None));
    let report = Arc::clone(&failure);
    // Held open until the outcome is stored, whatever the encoders do with theirs.
    let hold = writer.try_clone()?;
    std::thread::spawn(move || {
        let result = job(writer);
        if let Err(e) = result {
            // Stored before `hold`, the last write end, is dropped: the reader sees it at EOF.
            *report.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        }
        drop(hold);
    });
    let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into())?;
    Ok(Box::new(TarStream { pipe, failure }))
}

fn write_tar<W: Write>(dir: &Path, paths: &[PathBuf], out: W) -> io::Result<W> {
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    if paths.is_empty() {
        tar.append_dir_all(".", dir)?;
    }
    for p in paths {
        let full = dir.join(p);
        if full.symlink_metadata()?.is_dir() {
            tar.append_dir_all(p, &full)?;
        } else {
            tar.append_path_with_name(&full, p)?;
        }
    }
    tar.into_inner()
}

/// The pipe's read end; at its end, a failure of the tar thread becomes a
/// read error, so a truncated tar is never passed off as complete.
struct TarStream {
    pipe: tokio::net::unix::pipe::Receiver,
    failure: Arc<Mutex<Option<io::Error>>>,
}

impl AsyncRead for TarStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.pipe).poll_read(cx, buf) {
            Poll::Ready(Ok(())) if buf.filled().len() == before => {
                let failed = self
                    .failure
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
                Poll::Ready(failed.map_or(Ok(()), Err))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tar_of_a_dir_streams_its_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::write(dir.path().join("bin/kubeadm"), b"binary").unwrap();
        let source = Source::Tar {
            dir: dir.path().into(),
            paths: vec!["bin".into()],
            compress: Compression::Zstd,
            identity: "x".into(),
        };
        let mut bytes = Vec::new();
        open(&source)
            .await
            .unwrap()
            .read_to_end(&mut bytes)
            .await
            .unwrap();
        let tar_bytes = zstd::decode_all(&bytes[..]).unwrap();
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(names.contains(&"bin/kubeadm".to_string()), "{names:?}");
    }

    #[tokio::test]
    async fn a_compressed_file_inflates_back_to_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("layer.tar");
        let body: Vec<u8> = b"plain tar of text files\n".repeat(4096);
        std::fs::write(&path, &body).unwrap();
        let source = Source::Compressed {
            file: LocalFile {
                path,
                size: body.len() as u64,
                identity: "sha256:x".into(),
            },
            with: Compression::Gzip,
        };
        let mut bytes = Vec::new();
        open(&source)
            .await
            .unwrap()
            .read_to_end(&mut bytes)
            .await
            .unwrap();
        assert!(bytes.len() < body.len() / 10, "{} bytes", bytes.len());
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut back)
            .unwrap();
        assert_eq!(back, body);
    }

    #[tokio::test]
    async fn a_missing_path_is_a_read_error_not_a_short_tar() {
        let dir = tempfile::tempdir().unwrap();
        let source = Source::Tar {
            dir: dir.path().into(),
            paths: vec!["nope".into()],
            compress: Compression::None,
            identity: "x".into(),
        };
        let mut bytes = Vec::new();
        let r = open(&source).await.unwrap().read_to_end(&mut bytes).await;
        assert!(r.is_err());
    }

    #[tokio::test]
    async fn files_with_a_wrong_size_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"12345").unwrap();
        let files = vec![LocalFile {
            path,
            size: 4,
            identity: "sha256:x".into(),
        }];
        let e = open(&Source::Files(files)).await.err().unwrap();
        assert!(e.to_string().contains("the plan expected 4"), "{e}");
    }
}
