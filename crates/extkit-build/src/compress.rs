//! Compressing layers on every core: each tar is cut into fixed-size chunks compressed apart
//! and joined, which gzip (several members) and zstd (several frames) both allow. Chunks are
//! the same whatever the number of cores, so the bytes are too.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use extkit_oci::{Compression, media_types};

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
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let job = next.fetch_add(1, Ordering::Relaxed);
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
