//! `ADD URL`: each URL is fetched once per build, whichever platforms ask for it, by a
//! function the caller gives (the library makes no network requests of its own).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tracing::debug;

use crate::copy::{CopyLayer, CopyOptions, Destination};
use crate::error::{BuildError, Place};

/// Fetches the body of an `http://` or `https://` URL.
pub type UrlFetcher<'a> =
    dyn Fn(&str) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> + Sync + 'a;

/// What a download gave: the bytes, or why there are none.
type Fetched = Result<Arc<Vec<u8>>, String>;

/// The downloads of one build.
pub(crate) struct Downloads<'a> {
    fetch: &'a UrlFetcher<'a>,
    done: Mutex<HashMap<String, Arc<OnceLock<Fetched>>>>,
}

impl<'a> Downloads<'a> {
    pub fn new(fetch: &'a UrlFetcher<'a>) -> Self {
        Downloads {
            fetch,
            done: Mutex::new(HashMap::new()),
        }
    }

    /// `ADD URL DEST`: the body, checked against `--checksum` when given, as the file `DEST`
    /// or, when `DEST` ends in `/`, as the last part of the URL's path inside it; mode 0600
    /// unless `--chmod` says otherwise, as BuildKit makes it. Never extracted.
    pub fn add(
        &self,
        place: &Place,
        url: &str,
        checksum: Option<&extkit_oci::Digest>,
        destination: &Destination<'_>,
        options: &CopyOptions,
        layer: &mut CopyLayer,
    ) -> Result<(), BuildError> {
        let name = if destination.is_folder() {
            file_name(url).ok_or_else(|| {
                place.invalid(format!(
                    "the URL `{url}` has no file name to give the download; name the \
                     destination file (no trailing `/`)"
                ))
            })?
        } else {
            String::new()
        };
        let body = self.get(url).map_err(|reason| BuildError::Download {
            file: place.file.clone(),
            line: place.line,
            url: url.to_string(),
            reason,
        })?;
        if let Some(expected) = checksum {
            let actual = extkit_oci::sha256_digest(&body);
            if actual != *expected {
                return Err(place.invalid(format!(
                    "`{url}` has the digest `{actual}`, not the `--checksum` `{expected}`"
                )));
            }
        }
        debug!(url, bytes = body.len(), "downloaded");
        layer.add_bytes(&name, body, 0o600, destination, options);
        Ok(())
    }

    /// The body at `url`, fetched by the first platform that asks; the others wait for it.
    pub fn get(&self, url: &str) -> Fetched {
        let cell = self
            .done
            .lock()
            .expect("no thread panics holding the downloads")
            .entry(url.to_string())
            .or_default()
            .clone();
        cell.get_or_init(|| {
            (self.fetch)(url).map(Arc::new).map_err(|error| {
                let mut text = error.to_string();
                let mut cause = error.source();
                while let Some(inner) = cause {
                    text.push_str(": ");
                    text.push_str(&inner.to_string());
                    cause = inner.source();
                }
                text
            })
        })
        .clone()
    }
}

/// The file name `ADD URL DIR/` gives the download: the last part of the URL's path, with
/// `%XX` escapes decoded, as BuildKit names it. `None` when there is no usable name.
fn file_name(url: &str) -> Option<String> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split_once('/')
        .map_or("", |(_, path)| path);
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()
        .filter(|text| !text.contains('\0'))?;
    let name = decoded.rsplit('/').next().unwrap_or_default();
    match name {
        "" | "." | ".." => None,
        name => Some(name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_last_part_of_the_path() {
        let cases = [
            ("https://example.com/a/b/tool.tar.gz", Some("tool.tar.gz")),
            ("https://example.com/a/b/tool?x=1#top", Some("tool")),
            (
                "http://127.0.0.1:5000/v2/x/blobs/sha256:ab",
                Some("sha256:ab"),
            ),
            ("https://example.com/my%20tool", Some("my tool")),
            ("https://example.com/dir/", None),
            ("https://example.com", None),
            ("https://example.com/a/..", None),
            ("https://example.com/a%2Fb", Some("b")),
            ("https://example.com/%00", None),
        ];
        for (url, name) in cases {
            assert_eq!(file_name(url).as_deref(), name, "{url}");
        }
    }

    #[test]
    fn each_url_is_fetched_once() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let fetch = |url: &str| -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match url {
                "http://ok" => Ok(b"body".to_vec()),
                _ => Err("refused".into()),
            }
        };
        let downloads = Downloads::new(&fetch);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| assert_eq!(downloads.get("http://ok").unwrap().as_slice(), b"body"));
            }
        });
        assert_eq!(downloads.get("http://bad"), Err("refused".to_string()));
        assert_eq!(downloads.get("http://bad"), Err("refused".to_string()));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
