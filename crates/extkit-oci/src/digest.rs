use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::Error;

/// A content digest, `sha256:` followed by 64 lower-case hex digits.
///
/// Only SHA-256 is accepted: it is the only algorithm registries and Docker Desktop use, and
/// accepting others would mean verifying content we cannot hash.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// The hex part, without the `sha256:` prefix.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    /// The whole digest as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex digits, as Docker shows image IDs.
    pub fn short(&self) -> &str {
        &self.hex()[..12]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidDigest {
            digest: text.to_string(),
            reason: reason.to_string(),
        };
        let Some((algorithm, hex)) = text.split_once(':') else {
            return Err(invalid("it has no `algorithm:` prefix"));
        };
        if algorithm != "sha256" {
            return Err(invalid("only sha256 digests are supported"));
        }
        if hex.len() != 64 {
            return Err(invalid("a sha256 digest has 64 hex digits"));
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(invalid("a sha256 digest has only lower-case hex digits"));
        }
        Ok(Digest(text.to_string()))
    }
}

impl From<&Digest> for oci_spec::image::Digest {
    fn from(digest: &Digest) -> Self {
        // Our digests are a strict subset of what oci-spec accepts.
        oci_spec::image::Digest::from_str(digest.as_str()).expect("a valid sha256 digest")
    }
}

impl TryFrom<&oci_spec::image::Digest> for Digest {
    type Error = Error;

    fn try_from(digest: &oci_spec::image::Digest) -> Result<Self, Error> {
        digest.to_string().parse()
    }
}

/// The SHA-256 digest of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> Digest {
    Digest(format!("sha256:{}", hex::encode(Sha256::digest(bytes))))
}

/// A reader that hashes what passes through it and fails at the end when the content does not
/// match the expected digest and size.
///
/// The check happens when the inner reader reports end of file, so a consumer that reads to the
/// end sees corruption as an I/O error of kind `InvalidData` wrapping [`Error::DigestMismatch`]
/// or [`Error::SizeMismatch`]. Reading past the expected size fails at once, so a lying source
/// cannot make us read without bound.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
    expected_digest: Digest,
    expected_size: u64,
    what: String,
    done: bool,
}

impl<R: Read> VerifyingReader<R> {
    /// Wraps `inner`, which should yield exactly `size` bytes hashing to `digest`.
    pub fn new(inner: R, digest: Digest, size: u64, what: impl Into<String>) -> Self {
        VerifyingReader {
            inner,
            hasher: Sha256::new(),
            read: 0,
            expected_digest: digest,
            expected_size: size,
            what: what.into(),
            done: false,
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.done = true;
        if self.read != self.expected_size {
            return Err(invalid_data(Error::SizeMismatch {
                what: self.what.clone(),
                expected: self.expected_size,
                found: self.read,
            }));
        }
        let found = Digest(format!(
            "sha256:{}",
            hex::encode(self.hasher.clone().finalize())
        ));
        if found != self.expected_digest {
            return Err(invalid_data(Error::DigestMismatch {
                what: self.what.clone(),
                expected: self.expected_digest.to_string(),
                found: found.to_string(),
            }));
        }
        Ok(())
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        // Ask for one byte more than expected at most, so an over-long source is noticed.
        let room = (self.expected_size - self.read.min(self.expected_size)).saturating_add(1);
        let limit = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let count = self.inner.read(&mut buf[..limit])?;
        if count == 0 {
            self.finish()?;
            return Ok(0);
        }
        self.read += count as u64;
        if self.read > self.expected_size {
            self.done = true;
            return Err(invalid_data(Error::SizeMismatch {
                what: self.what.clone(),
                expected: self.expected_size,
                found: self.read,
            }));
        }
        self.hasher.update(&buf[..count]);
        Ok(count)
    }
}

/// Wraps one of our errors in an I/O error, so it can cross a `Read` boundary.
pub(crate) fn invalid_data(error: Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

/// Takes our error back out of an I/O error made by [`invalid_data`], or keeps the I/O error.
pub(crate) fn unwrap_io(error: io::Error) -> Error {
    if error.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        let inner = error.into_inner().expect("checked above");
        return *inner.downcast::<Error>().expect("checked above");
    }
    Error::Io(error)
}

/// Reads a whole blob through a verifying reader into memory.
pub(crate) fn read_verified(
    reader: impl Read,
    digest: &Digest,
    size: u64,
    what: &str,
) -> crate::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(usize::try_from(size.min(16 << 20)).unwrap_or(0));
    VerifyingReader::new(reader, digest.clone(), size, what)
        .read_to_end(&mut bytes)
        .map_err(unwrap_io)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_input() {
        assert_eq!(
            sha256_digest(b"").as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_rejects_bad_digests() {
        for bad in [
            "",
            "sha256",
            "sha512:00",
            "sha256:abc",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn verifying_reader_accepts_matching_content() {
        let digest = sha256_digest(b"hello");
        let bytes = read_verified(&b"hello"[..], &digest, 5, "test").unwrap();
        assert_eq!(bytes, b"hello");
    }

    #[test]
    fn verifying_reader_reports_digest_mismatch() {
        let digest = sha256_digest(b"hello");
        let error = read_verified(&b"hellO"[..], &digest, 5, "blob x").unwrap_err();
        assert!(matches!(error, Error::DigestMismatch { .. }), "{error}");
    }

    #[test]
    fn verifying_reader_reports_short_and_long_content() {
        let digest = sha256_digest(b"hello");
        let short = read_verified(&b"hell"[..], &digest, 5, "x").unwrap_err();
        assert!(
            matches!(
                short,
                Error::SizeMismatch {
                    expected: 5,
                    found: 4,
                    ..
                }
            ),
            "{short}"
        );
        let long = read_verified(&b"hello world"[..], &digest, 5, "x").unwrap_err();
        assert!(
            matches!(long, Error::SizeMismatch { expected: 5, .. }),
            "{long}"
        );
    }
}
