//! Faults a real registry does not produce, from a fake one: content that does not match its
//! digest, and a connection dropped in the middle of a blob.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use common::digest_of;
use common::extkit;

/// How the fake registry serves the layer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Other bytes of the same length.
    WrongContent,
    /// Half the layer, then the connection is closed; the next request gets all of it.
    DropOnce,
}

struct FakeRegistry {
    address: String,
    layer: String,
    layer_requests: Arc<AtomicUsize>,
}

/// A registry holding `x:1`: a manifest with a config and one 64 KiB layer.
fn start(fault: Fault) -> FakeRegistry {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
            .to_vec();
    let layer: Vec<u8> = (0..65536u32).map(|i| (i * 7 % 251) as u8).collect();
    let config_digest = digest_of(&config);
    let layer_digest = digest_of(&layer);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let layer_requests = Arc::new(AtomicUsize::new(0));
    let counter = layer_requests.clone();
    let layer_path = format!("/v2/x/blobs/{layer_digest}");
    let config_path = format!("/v2/x/blobs/{config_digest}");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (manifest, config, layer) = (manifest.clone(), config.clone(), layer.clone());
            let (layer_path, config_path, counter) =
                (layer_path.clone(), config_path.clone(), counter.clone());
            thread::spawn(move || {
                serve(stream, |path| {
                    if path == "/v2/" {
                        Reply::Full("application/json", b"{}".to_vec())
                    } else if path == "/v2/x/manifests/1" {
                        Reply::Full(
                            "application/vnd.oci.image.manifest.v1+json",
                            manifest.clone().into_bytes(),
                        )
                    } else if path == config_path {
                        Reply::Full("application/octet-stream", config.clone())
                    } else if path == layer_path {
                        let attempt = counter.fetch_add(1, Ordering::SeqCst);
                        match fault {
                            Fault::WrongContent => Reply::Full(
                                "application/octet-stream",
                                layer.iter().map(|b| b ^ 1).collect(),
                            ),
                            Fault::DropOnce if attempt == 0 => Reply::Cut(layer.clone()),
                            Fault::DropOnce => {
                                Reply::Full("application/octet-stream", layer.clone())
                            }
                        }
                    } else {
                        Reply::NotFound
                    }
                });
            });
        }
    });
    FakeRegistry {
        address,
        layer: layer_digest,
        layer_requests,
    }
}

enum Reply {
    Full(&'static str, Vec<u8>),
    /// Announces the whole body, sends half, and closes the connection.
    Cut(Vec<u8>),
    NotFound,
}

/// Answers requests on one connection until it closes or a reply cuts it.
fn serve(stream: TcpStream, answer: impl Fn(&str) -> Reply) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut first = String::new();
        if reader.read_line(&mut first).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
        }
        let mut words = first.split_whitespace();
        let method = words.next().unwrap_or_default().to_string();
        let path = words.next().unwrap_or_default().to_string();
        let body = |status: &str, kind: &str, bytes: &[u8]| {
            let mut head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
                 Docker-Distribution-Api-Version: registry/2.0\r\n\r\n",
                bytes.len()
            )
            .into_bytes();
            if method != "HEAD" {
                head.extend_from_slice(bytes);
            }
            head
        };
        let reply = match answer(&path) {
            Reply::Full(kind, bytes) => body("200 OK", kind, &bytes),
            Reply::NotFound => body(
                "404 Not Found",
                "application/json",
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#,
            ),
            Reply::Cut(bytes) => {
                let mut reply = body("200 OK", "application/octet-stream", &bytes);
                reply.truncate(reply.len() - bytes.len() / 2);
                let _ = writer.write_all(&reply);
                let _ = writer.flush();
                return;
            }
        };
        if writer.write_all(&reply).is_err() {
            return;
        }
    }
}

#[test]
fn content_that_does_not_match_its_digest_is_refused() {
    let fake = start(Fault::WrongContent);
    let scratch = tempfile::tempdir().unwrap();
    let output = extkit()
        .args(["copy", &format!("docker://{}/x:1", fake.address)])
        .arg(format!("oci:{}", scratch.path().join("out").display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "digest mismatch for blob `{}` of docker://{}/x:1: expected `{}`",
            fake.layer, fake.address, fake.layer
        )),
        "{stderr}"
    );
    assert!(stderr.contains("hint: the image is corrupt"), "{stderr}");
}

#[test]
fn a_dropped_connection_is_resumed() {
    let fake = start(Fault::DropOnce);
    let scratch = tempfile::tempdir().unwrap();
    let layout = scratch.path().join("out");
    let output = extkit()
        .args(["copy", &format!("docker://{}/x:1", fake.address)])
        .arg(format!("oci:{}:v1", layout.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(fake.layer_requests.load(Ordering::SeqCst), 2);
    let stored = layout
        .join("blobs/sha256")
        .join(fake.layer.trim_start_matches("sha256:"));
    assert_eq!(digest_of(&std::fs::read(stored).unwrap()), fake.layer);
}
