//! Uploading one blob: in one request when small, in chunks when large, tried again after
//! failures that may pass.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use oci_client::errors::OciDistributionError;
use oci_client::{Reference, RegistryOperation};
use tracing::debug;

use crate::Result;
use crate::connection::Connection;

/// A blob's bytes, held so that an upload can be tried again from the start.
pub(crate) enum BlobContent {
    /// Small blobs.
    Memory(Bytes),
    /// Large blobs, in a temporary file deleted when the last upload attempt ends.
    File(Arc<tempfile::NamedTempFile>),
}

impl BlobContent {
    /// The content as a stream of pieces of at most `piece` bytes; each piece of a chunked
    /// upload is one `PATCH` request.
    fn stream(
        &self,
        piece: usize,
    ) -> BoxStream<'static, std::result::Result<Bytes, OciDistributionError>> {
        match self {
            BlobContent::Memory(bytes) => {
                let bytes = bytes.clone();
                let pieces: Vec<_> = (0..bytes.len())
                    .step_by(piece.max(1))
                    .map(|start| Ok(bytes.slice(start..(start + piece).min(bytes.len()))))
                    .collect();
                stream::iter(pieces).boxed()
            }
            BlobContent::File(file) => {
                let file = file.clone();
                stream::unfold(Some(0u64), move |offset| {
                    let file = file.clone();
                    async move {
                        let offset = offset?;
                        let read =
                            tokio::task::spawn_blocking(move || read_piece(&file, offset, piece))
                                .await
                                .map_err(|error| std::io::Error::other(error.to_string()))
                                .and_then(|result| result);
                        match read {
                            Ok(bytes) if bytes.is_empty() => None,
                            Ok(bytes) => {
                                let next = offset + bytes.len() as u64;
                                Some((Ok(bytes), Some(next)))
                            }
                            Err(error) => Some((Err(OciDistributionError::IoError(error)), None)),
                        }
                    }
                })
                .boxed()
            }
        }
    }
}

fn read_piece(file: &tempfile::NamedTempFile, offset: u64, piece: usize) -> std::io::Result<Bytes> {
    let mut handle = file.reopen()?;
    handle.seek(SeekFrom::Start(offset))?;
    let mut buffer = Vec::with_capacity(piece);
    handle.take(piece as u64).read_to_end(&mut buffer)?;
    Ok(Bytes::from(buffer))
}

/// Uploads a blob to `reference`'s repository: one `PUT` when it is no larger than the
/// monolithic limit, else `PATCH` requests of `chunk_size` bytes.
pub(crate) async fn upload_blob(
    connection: &Connection,
    reference: &Reference,
    digest: &str,
    size: u64,
    content: &BlobContent,
) -> Result<()> {
    let options = &connection.options;
    let monolithic = size <= options.monolithic_limit;
    let (client, piece) = if monolithic {
        (connection.monolithic().await?, 1 << 20)
    } else {
        (&connection.client, options.chunk_size)
    };
    let progress = options.progress.clone();
    let what = format!("upload blob `{digest}`");
    if let Some(progress) = &progress {
        progress.begin(digest, size, "upload");
    }
    let result = connection
        .retry(&what, || {
            let key = digest.to_string();
            let progress = progress.clone();
            let counted = content.stream(piece).inspect(move |piece| {
                if let (Some(progress), Ok(bytes)) = (&progress, piece) {
                    progress.advance(&key, "upload", bytes.len() as u64);
                }
            });
            client.push_blob_stream(reference, counted, digest, Some(size))
        })
        .await;
    if let Some(progress) = &progress {
        progress.end(digest, "upload");
    }
    result.map_err(|source| {
        connection.failure(
            source,
            &what,
            reference.repository(),
            RegistryOperation::Push,
        )
    })?;
    debug!(digest, size, monolithic, "blob uploaded");
    Ok(())
}
