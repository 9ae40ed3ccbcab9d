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
        Compression::Gzip => gzip(chunk),
        Compression::Zstd => zstd::encode_all(chunk, 3),
    }
}

/// The header flate2's `GzBuilder` writes with `mtime(0)` at the fast level: no time, no file
/// name, `XFL` 4 (fastest), operating system 255 (unknown).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255];

/// The size of the pieces of a chunk judged compressible or not.
const PIECE: usize = 32 << 10;

/// One gzip member holding `chunk`, deflated at the fast level except the pieces that
/// [`looks_incompressible`], which are stored as they are.
///
/// Half of a typical UI is fonts, images and minified bundles already compressed: deflate
/// scans them at full cost to save nothing. A chunk with no such piece gives exactly the bytes
/// of flate2's `GzEncoder` at the fast level. The choice depends on the bytes alone, so the
/// output is still the same on every machine.
fn gzip(chunk: &[u8]) -> std::io::Result<Vec<u8>> {
    let level = |stored: bool| match stored {
        true => flate2::Compression::none(),
        false => flate2::Compression::fast(),
    };
    // Runs of pieces judged alike, each handed to deflate whole: zlib-rs's output depends on
    // how the input is cut into calls, and a chunk that is one run is then cut as by flate2.
    let mut judge = Judge::new();
    let mut runs: Vec<(&[u8], bool)> = Vec::new();
    let mut start = 0;
    for piece in chunk.chunks(PIECE) {
        let stored = judge.looks_incompressible(piece);
        let end = start + piece.len();
        match runs.last_mut() {
            Some((run, run_stored)) if *run_stored == stored => {
                *run = &chunk[end - run.len() - piece.len()..end];
            }
            _ => runs.push((&chunk[start..end], stored)),
        }
        start = end;
    }
    let first_stored = runs.first().is_some_and(|(_, stored)| *stored);
    let mut deflate = flate2::Compress::new(level(first_stored), false);
    let mut out = Vec::with_capacity(chunk.len() / 2 + 1024);
    out.extend_from_slice(&GZIP_HEADER);
    for (index, (run, stored)) in runs.iter().enumerate() {
        if index > 0 {
            // Ends the block so far; the level may change only between blocks.
            deflate_into(&mut deflate, &[], &mut out, flate2::FlushCompress::Sync)?;
            deflate.set_level(level(*stored))?;
        }
        deflate_into(&mut deflate, run, &mut out, flate2::FlushCompress::None)?;
    }
    deflate_into(&mut deflate, &[], &mut out, flate2::FlushCompress::Finish)?;
    let mut crc = flate2::Crc::new();
    crc.update(chunk);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE: the length modulo 2^32, as gzip defines it; a chunk is far smaller.
    out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
    Ok(out)
}

/// Deflates all of `input` into `out`, growing it as needed, and flushes as asked.
fn deflate_into(
    deflate: &mut flate2::Compress,
    mut input: &[u8],
    out: &mut Vec<u8>,
    flush: flate2::FlushCompress,
) -> std::io::Result<()> {
    loop {
        // Room for the input stored as it is, with its block headers.
        out.reserve(input.len() + 1024);
        let before = deflate.total_in();
        let status = deflate.compress_vec(input, out, flush)?;
        let consumed = usize::try_from(deflate.total_in() - before)
            .expect("no more than the input is consumed");
        input = &input[consumed..];
        let done = match flush {
            flate2::FlushCompress::Finish => status == flate2::Status::StreamEnd,
            _ => input.is_empty() && out.len() < out.capacity(),
        };
        if done {
            return Ok(());
        }
    }
}

/// Decides which pieces deflate would not shrink, keeping the buffers it needs between pieces.
struct Judge {
    trial: flate2::Compress,
    scratch: Vec<u8>,
}

/// The size of the sample a piece is tried on.
const SAMPLE: usize = 4 << 10;

impl Judge {
    fn new() -> Self {
        Judge {
            trial: flate2::Compress::new(flate2::Compression::fast(), false),
            scratch: Vec::with_capacity(2 * SAMPLE),
        }
    }

    /// Whether deflate would save next to nothing on `piece`, as on compressed or random data.
    ///
    /// First the bytes must be spread almost evenly over all 256 values. The test is the
    /// collision entropy, in integers so every machine decides alike: with `n` bytes and `c`
    /// occurrences of each value, `256 * sum(c^2) / n^2` is 1 for perfectly even bytes and
    /// grows as some values dominate. At most 9/8 means a collision entropy of at least 7.83
    /// bits per byte; the Shannon entropy, the bound of a Huffman code, is no lower, so
    /// deflate's literal codes would save at most about 2% (noise with a tar header in it
    /// passes; a tenth of zeros does not). Even bytes may still repeat (a
    /// pattern of all 256 values, say), which only matches find: a sample from the middle
    /// of the piece is deflated, and must not shrink by more than 1/64 either.
    fn looks_incompressible(&mut self, piece: &[u8]) -> bool {
        if piece.len() < 2 * SAMPLE || !even_bytes(piece) {
            return false;
        }
        let start = piece.len() / 2 - SAMPLE / 2;
        let sample = &piece[start..start + SAMPLE];
        self.trial.reset();
        self.scratch.clear();
        let deflated = deflate_into(
            &mut self.trial,
            sample,
            &mut self.scratch,
            flate2::FlushCompress::Finish,
        );
        deflated.is_ok() && self.scratch.len() >= SAMPLE - SAMPLE / 64
    }
}

/// Whether `piece`'s bytes are spread over all values evenly enough (see
/// [`Judge::looks_incompressible`]).
fn even_bytes(piece: &[u8]) -> bool {
    // Four tables, so that runs of one value do not stall on a single counter.
    let mut counts = [[0u32; 256]; 4];
    let mut quads = piece.chunks_exact(4);
    for quad in &mut quads {
        counts[0][usize::from(quad[0])] += 1;
        counts[1][usize::from(quad[1])] += 1;
        counts[2][usize::from(quad[2])] += 1;
        counts[3][usize::from(quad[3])] += 1;
    }
    for &byte in quads.remainder() {
        counts[0][usize::from(byte)] += 1;
    }
    let squares: u64 = (0..256)
        .map(|value| {
            let count = u64::from(counts.iter().map(|table| table[value]).sum::<u32>());
            count * count
        })
        .sum();
    let length = piece.len() as u64;
    8 * 256 * squares <= 9 * length * length
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

    /// `length` bytes that do not compress (xorshift64, fixed seed).
    fn noise(length: usize, seed: u64) -> Vec<u8> {
        let mut state = seed | 1;
        (0..length)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 56) as u8
            })
            .collect()
    }

    /// `length` bytes of text that compresses well.
    fn words(length: usize) -> Vec<u8> {
        let words = [
            "const ", "return ", "props", ".state", " => ", "{", "}\n", "render(",
        ];
        let choices = noise(length, 7);
        let mut text = Vec::with_capacity(length + 8);
        let mut index = 0;
        while text.len() < length {
            text.extend_from_slice(words[usize::from(choices[index]) % words.len()].as_bytes());
            index += 1;
        }
        text.truncate(length);
        text
    }

    fn flate2_gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(data)
            .read_to_end(&mut back)
            .unwrap();
        back
    }

    #[test]
    fn compressible_data_gives_flate2s_bytes() {
        for data in [Vec::new(), b"small".to_vec(), words(300_000), sample()] {
            let (ours, theirs) = (gzip(&data).unwrap(), flate2_gzip(&data));
            let first_difference = ours.iter().zip(&theirs).position(|(a, b)| a != b);
            assert_eq!(
                (ours.len(), first_difference),
                (theirs.len(), None),
                "{} bytes",
                data.len()
            );
        }
    }

    #[test]
    fn incompressible_data_is_stored() {
        let data = noise(200_000, 1);
        let compressed = gzip(&data).unwrap();
        assert_eq!(gunzip(&compressed), data);
        // The first block after the 10-byte header is a stored one (BTYPE 00)...
        assert_eq!((compressed[10] >> 1) & 0b11, 0);
        // ...and stored blocks add 5 bytes each, a few thousand bytes long at the least.
        assert!(
            compressed.len() <= data.len() + data.len() / 500 + 18,
            "{}",
            compressed.len()
        );
        // flate2 scans it all and saves nothing either.
        assert!(flate2_gzip(&data).len() >= data.len());
    }

    #[test]
    fn text_and_noise_are_each_treated_as_they_need() {
        let text = words(100_000);
        let noise = noise(100_000, 2);
        let data = [&text[..], &noise, &text, &noise[..1000]].concat();
        let compressed = gzip(&data).unwrap();
        assert_eq!(gunzip(&compressed), data);
        let text_alone = gzip(&text).unwrap().len();
        assert!(text_alone < text.len() / 3, "{text_alone}");
        // The text is deflated as well as alone; the noise costs its own size, except in the
        // two pieces where it meets text, which are deflated whole and grow by about 1/16.
        assert!(
            compressed.len() < 2 * text_alone + noise.len() + 1000 + 2 * PIECE / 16,
            "{} against {text_alone}",
            compressed.len()
        );
        assert!(compressed.len() < flate2_gzip(&data).len());
    }

    #[test]
    fn bytes_even_over_all_values_but_repeating_are_deflated() {
        // Every value equally often, so the counts alone would call it incompressible; the
        // trial on a sample finds the repetition.
        let pattern: Vec<u8> = (0..200_000).map(|i| (i % 256) as u8).collect();
        assert!(even_bytes(&pattern[..PIECE]));
        assert!(!Judge::new().looks_incompressible(&pattern[..PIECE]));
        assert!(gzip(&pattern).unwrap() == flate2_gzip(&pattern));
        assert!(gzip(&pattern).unwrap().len() < 10_000);
    }

    #[test]
    fn the_judge_takes_noise_and_leaves_text_and_small_pieces() {
        let mut judge = Judge::new();
        assert!(judge.looks_incompressible(&noise(PIECE, 3)));
        assert!(!judge.looks_incompressible(&words(PIECE)));
        assert!(!judge.looks_incompressible(&noise(2 * SAMPLE - 1, 3)));
        // Noise with a tar header's worth of zeros is still noise...
        let mut headed = noise(PIECE, 4);
        headed[..400].fill(0);
        assert!(judge.looks_incompressible(&headed));
        // ...but not with a tenth of it zeros.
        headed[..PIECE / 10].fill(0);
        assert!(!judge.looks_incompressible(&headed));
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
