//! Compressing layers on every core: each tar is cut into fixed-size chunks compressed apart
//! and joined, which gzip (several members) and zstd (several frames) both allow. Chunks are
//! the same whatever the number of cores, so the bytes are too.
//!
//! [`make_layers`] streams: each layer's tar is written chunk by chunk, and every chunk is
//! compressed as soon as it is full, on another core, while the tar goes on.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use extkit_layer::{LayerBuilder, LayerError};
use extkit_oci::{Compression, Digest, LayerBlob, media_types};
use sha2::{Digest as _, Sha256};

use crate::error::BuildError;
use crate::tree::{Content, NodeKind, Tree};

/// The size of the chunks compressed apart.
const CHUNK: usize = 2 << 20;

/// The media type of a layer compressed as asked.
pub(crate) fn media_type(compression: Compression) -> &'static str {
    match compression {
        Compression::None => media_types::OCI_LAYER,
        Compression::Gzip => media_types::OCI_LAYER_GZIP,
        Compression::Zstd => media_types::OCI_LAYER_ZSTD,
    }
}

fn compress_chunk(chunk: &[u8], compression: Compression) -> std::io::Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(chunk.to_vec()),
        Compression::Gzip => {
            // The fast level, no time and no file name in the header.
            let mut encoder = flate2::GzBuilder::new().mtime(0).write(
                Vec::with_capacity(chunk.len() / 2),
                flate2::Compression::fast(),
            );
            encoder.write_all(chunk)?;
            encoder.finish()
        }
        Compression::Zstd => zstd::encode_all(chunk, 3),
    }
}

/// Compresses every tar, in parallel, giving the compressed bytes in the same order.
#[cfg(test)]
pub(crate) fn compress_all(
    tars: &[&[u8]],
    compression: Compression,
) -> std::io::Result<Vec<Vec<u8>>> {
    let mut jobs: Vec<(usize, &[u8])> = Vec::new();
    for (index, tar) in tars.iter().enumerate() {
        if tar.is_empty() {
            jobs.push((index, tar));
        }
        for chunk in tar.chunks(CHUNK) {
            jobs.push((index, chunk));
        }
    }
    let results: Vec<Mutex<Option<std::io::Result<Vec<u8>>>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let job = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((_, chunk)) = jobs.get(job) else {
                        break;
                    };
                    let compressed = compress_chunk(chunk, compression);
                    *results[job].lock().expect("no worker panics holding it") = Some(compressed);
                }
            });
        }
    });
    let mut outputs: Vec<Vec<u8>> = vec![Vec::new(); tars.len()];
    for ((index, _), result) in jobs.iter().zip(results) {
        let bytes = result
            .into_inner()
            .expect("no worker panics holding it")
            .expect("every job ran")?;
        outputs[*index].extend_from_slice(&bytes);
    }
    Ok(outputs)
}

/// The compressed chunks of one layer as they come, and its diff_id once its tar is written.
#[derive(Default)]
struct Made {
    chunks: Mutex<Vec<Option<std::io::Result<Vec<u8>>>>>,
    diff_id: Mutex<Option<Result<Digest, BuildError>>>,
}

/// Makes the layer of every tree, compressed: the tars are written in parallel, and each
/// chunk of a tar is compressed as soon as it is full, so reading files and compressing
/// overlap on every core. Gives the blobs in the order of `trees`.
pub(crate) fn make_layers(
    trees: &[Arc<Tree>],
    mtime: u64,
    compression: Compression,
) -> Result<Vec<LayerBlob>, BuildError> {
    let made: Vec<Made> = trees.iter().map(|_| Made::default()).collect();
    rayon::scope(|scope| {
        for (tree, made) in trees.iter().zip(&made) {
            scope.spawn(move |scope| {
                let mut sink = ChunkSink::new(|chunk: Vec<u8>| {
                    let index = {
                        let mut chunks = made.chunks.lock().expect("no job panics holding it");
                        chunks.push(None);
                        chunks.len() - 1
                    };
                    scope.spawn(move |_| {
                        let compressed = compress_chunk(&chunk, compression);
                        made.chunks.lock().expect("no job panics holding it")[index] =
                            Some(compressed);
                    });
                });
                let written = layer_builder(tree, mtime).and_then(|builder| {
                    builder
                        .write_tar(&mut sink)
                        .map(|_| ())
                        .map_err(|error| match error {
                            LayerError::ReadSource { path, source } => BuildError::Context {
                                path: PathBuf::from(path),
                                source,
                            },
                            other => other.into(),
                        })
                });
                let diff_id = written.map(|()| sink.finish());
                *made.diff_id.lock().expect("no job panics holding it") = Some(diff_id);
            });
        }
    });
    let media_type = media_type(compression);
    let joined: Vec<Result<(Vec<u8>, Digest), BuildError>> = made
        .into_iter()
        .map(|made| {
            let diff_id = made
                .diff_id
                .into_inner()
                .expect("no job panics holding it")
                .expect("every layer's tar was written")?;
            let chunks = made.chunks.into_inner().expect("no job panics holding it");
            let chunks: Vec<Vec<u8>> = chunks
                .into_iter()
                .map(|chunk| chunk.expect("every chunk was compressed"))
                .collect::<std::io::Result<_>>()
                .map_err(|error| BuildError::Layer(error.into()))?;
            let mut bytes = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
            for chunk in chunks {
                bytes.extend_from_slice(&chunk);
            }
            Ok((bytes, diff_id))
        })
        .collect();
    // The compressed digests, one layer per core.
    let blobs: Vec<Result<LayerBlob, BuildError>> = {
        use rayon::prelude::*;
        joined
            .into_par_iter()
            .map(|joined| joined.map(|(bytes, diff_id)| LayerBlob::new(media_type, bytes, diff_id)))
            .collect()
    };
    blobs.into_iter().collect()
}

/// The builder of a layer holding `tree`'s entries; files on disk are read when the tar is
/// written.
fn layer_builder(tree: &Tree, mtime: u64) -> Result<LayerBuilder, BuildError> {
    let mut builder = LayerBuilder::new(mtime);
    for (path, node) in tree.entries() {
        match &node.kind {
            NodeKind::File(Content::Disk(source)) => {
                builder.add_file_from_disk(path, source, node.mode)?;
            }
            NodeKind::File(Content::Memory(bytes)) => {
                builder.add_file(path, bytes.as_ref().clone(), node.mode)?;
            }
            NodeKind::Directory => {
                builder.add_dir(path, node.mode)?;
            }
            NodeKind::Symlink(target) => {
                builder.add_symlink(path, target)?;
            }
        }
        builder.set_owner_of(path, node.uid, node.gid);
    }
    Ok(builder)
}

/// Cuts what is written into [`CHUNK`]-sized pieces handed to `send`, hashing them in order.
struct ChunkSink<F: FnMut(Vec<u8>)> {
    current: Vec<u8>,
    hasher: Sha256,
    send: F,
    sent: bool,
}

impl<F: FnMut(Vec<u8>)> ChunkSink<F> {
    fn new(send: F) -> Self {
        ChunkSink {
            current: Vec::with_capacity(CHUNK),
            hasher: Sha256::new(),
            send,
            sent: false,
        }
    }

    fn send_current(&mut self) {
        self.hasher.update(&self.current);
        let full = std::mem::replace(&mut self.current, Vec::with_capacity(CHUNK));
        (self.send)(full);
        self.sent = true;
    }

    /// Sends the last chunk (an empty one for an empty tar) and gives the digest of it all.
    fn finish(&mut self) -> Digest {
        if !self.current.is_empty() || !self.sent {
            self.send_current();
        }
        let hash = std::mem::take(&mut self.hasher).finalize();
        format!("sha256:{}", hex::encode(hash))
            .parse()
            .expect("a SHA-256 digest is valid")
    }
}

impl<F: FnMut(Vec<u8>)> Write for ChunkSink<F> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let taken = buf.len().min(CHUNK - self.current.len());
        self.current.extend_from_slice(&buf[..taken]);
        if self.current.len() == CHUNK {
            self.send_current();
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample() -> Vec<u8> {
        (0..(CHUNK * 2 + 1000)).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn gzip_members_join_into_the_whole() {
        let tar = sample();
        let compressed = compress_all(&[&tar, b"small"], Compression::Gzip).unwrap();
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&compressed[0][..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, tar);
        let mut small = Vec::new();
        flate2::read::MultiGzDecoder::new(&compressed[1][..])
            .read_to_end(&mut small)
            .unwrap();
        assert_eq!(small, b"small");
    }

    #[test]
    fn zstd_frames_join_into_the_whole() {
        let tar = sample();
        let compressed = compress_all(&[&tar], Compression::Zstd).unwrap();
        let back = zstd::decode_all(&compressed[0][..]).unwrap();
        assert_eq!(back, tar);
    }

    #[test]
    fn the_bytes_do_not_depend_on_the_run() {
        let tar = sample();
        let first = compress_all(&[&tar], Compression::Gzip).unwrap();
        let second = compress_all(&[&tar], Compression::Gzip).unwrap();
        assert_eq!(first, second);
    }
}
