//! Decompression of a layer on a thread of its own: the compression is
//! recognised by magic bytes (falling back to the media type), the tar
//! stream is hashed as it is produced, and chunks flow to the reader through
//! a bounded channel so memory stays small however large the layer is.

use crate::image::digest::{Digest, Hasher};
use crate::image::oci::media;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes per chunk handed from the decoder thread to the applier.
const CHUNK: usize = 256 << 10;
/// Chunks that may wait in the channel (CHUNK × DEPTH bytes per layer).
const DEPTH: usize = 32;

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (one or more members).
    Gzip,
    /// zstd.
    Zstd,
}

impl Compression {
    /// What a media type says (docker and OCI names; `None` when it says nothing).
    pub fn from_media_type(m: &str) -> Option<Compression> {
        if m.ends_with("gzip") {
            Some(Compression::Gzip)
        } else if m.ends_with("zstd") {
            Some(Compression::Zstd)
        } else if m.ends_with(".tar") || m == media::OCI_LAYER_TAR {
            Some(Compression::None)
        } else {
            None
        }
    }

    /// What the first bytes say: gzip and zstd have magic numbers; anything
    /// else is taken for a tar.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.len() >= 4 {
            Some(Compression::None)
        } else {
            None
        }
    }

    /// Magic bytes win (media types are sometimes wrong); the media type
    /// decides only when the blob is too short to tell.
    pub fn detect(head: &[u8], media_type: &str) -> Compression {
        Compression::sniff(head)
            .or_else(|| Compression::from_media_type(media_type))
            .unwrap_or(Compression::None)
    }

    /// A reader of the uncompressed tar.
    pub fn decoder<'a>(self, r: impl BufRead + Send + 'a) -> io::Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Compression::None => Box::new(r),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
        })
    }
}

/// A layer being decompressed (and hashed) on its own thread; read it as
/// the uncompressed tar, then call [`DecodingLayer::finish`] for its digest.
pub struct DecodingLayer {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
    thread: Option<JoinHandle<io::Result<Digest>>>,
}

impl DecodingLayer {
    /// Start decompressing `blob` on a new thread.
    pub fn spawn(blob: impl Read + Send + 'static, media_type: &str) -> DecodingLayer {
        let (tx, rx) = sync_channel(DEPTH);
        let media_type = media_type.to_string();
        let thread = std::thread::spawn(move || decode(blob, &media_type, &tx));
        DecodingLayer {
            rx,
            chunk: Vec::new(),
            pos: 0,
            thread: Some(thread),
        }
    }

    /// Read to the end (tar padding after the last entry counts for the
    /// digest) and return the digest of the uncompressed stream.
    pub fn finish(mut self) -> io::Result<Digest> {
        io::copy(&mut self, &mut io::sink())?;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            _ => Err(io::Error::other("the layer decoder thread failed")),
        }
    }
}

impl Read for DecodingLayer {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The decoder thread: decompress, hash, send chunks. Stops quietly when
/// the reader has gone away (the apply failed).
fn decode(
    blob: impl Read + Send,
    media_type: &str,
    tx: &SyncSender<io::Result<Vec<u8>>>,
) -> io::Result<Digest> {
    let run = || -> io::Result<Digest> {
        let mut input = BufReader::with_capacity(CHUNK, blob);
        let kind = Compression::detect(input.fill_buf()?, media_type);
        let mut r = kind.decoder(input)?;
        let mut hasher = Hasher::new();
        loop {
            let mut chunk = vec![0u8; CHUNK];
            let mut filled = 0;
            while filled < CHUNK {
                match r.read(&mut chunk[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if filled == 0 {
                return Ok(hasher.finish());
            }
            chunk.truncate(filled);
            hasher.update(&chunk);
            if tx.send(Ok(chunk)).is_err() {
                return Err(io::Error::other("the layer reader stopped"));
            }
        }
    };
    let result = run();
    if let Err(e) = &result {
        let _ = tx.send(Err(io::Error::new(e.kind(), e.to_string())));
    }
    result
}
