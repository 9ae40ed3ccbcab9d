//! Downloads for `ADD URL`: one `GET`, redirects followed, the system's certificate
//! authorities plus `--ca-cert`, and `--insecure` skipping certificate checks, as for
//! registries.

use std::time::Duration;

use super::super::RegistrySettings;

/// The largest download `ADD` takes: the builder holds each in memory.
const LIMIT: u64 = 1 << 30;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a download may go without receiving a byte: `EXTKIT_READ_TIMEOUT` seconds (for
/// tests), else 60.
fn read_timeout() -> Duration {
    let seconds = std::env::var("EXTKIT_READ_TIMEOUT")
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|seconds| *seconds > 0)
        .unwrap_or(60);
    Duration::from_secs(seconds)
}

/// Fetches the body at `url` (`http://` or `https://`).
pub(super) fn fetch(url: &str, settings: &RegistrySettings) -> Result<Vec<u8>, BoxError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        // A server that stops sending fails the build instead of holding it forever.
        .read_timeout(read_timeout())
        .user_agent(concat!("extkit/", env!("CARGO_PKG_VERSION")));
    for path in &settings.ca_certs {
        let pem = fs_err::read(path)?;
        builder = builder.tls_certs_merge(reqwest::Certificate::from_pem_bundle(&pem)?);
    }
    if settings.insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    let client = builder.build()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut response = client.get(url).send().await?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered {status}").into());
        }
        if response
            .content_length()
            .is_some_and(|length| length > LIMIT)
        {
            return Err("it is larger than 1 GiB".into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() as u64 + chunk.len() as u64 > LIMIT {
                return Err("it is larger than 1 GiB".into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    })
}
