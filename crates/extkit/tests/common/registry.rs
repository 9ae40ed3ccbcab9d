//! Real registries for tests: Debian's CNCF registry (`docker-registry serve`) on a free
//! loopback port, in plain HTTP, basic-auth or TLS mode, killed on drop; plus a counting
//! proxy that records every request between extkit and the registry.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use extkit_layer::{Compression, LayerBuilder};
use extkit_oci::transport::LayoutDestination;
use extkit_oci::{ImageWriter, Platform, PlatformImage};

/// How the test registry is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Plain HTTP, no authentication.
    Plain,
    /// Plain HTTP with htpasswd basic authentication (`user` / `pass`).
    Auth,
    /// HTTPS with a self-signed server certificate for 127.0.0.1 (`CA:FALSE`).
    Tls,
    /// HTTPS with a self-signed certificate that is also a CA, as `openssl req -x509` makes
    /// by default.
    TlsCaAsServer,
}

/// A running registry, stopped when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// The registry's scratch folder (config, data, certificate).
    pub folder: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry, or gives `None` (after a skip message) when it is not installed.
    pub fn start(mode: Mode) -> Option<Registry> {
        if !super::require_peer("docker-registry") {
            return None;
        }
        if mode == Mode::Auth && !super::require_peer("htpasswd") {
            return None;
        }
        let mut folder = tempfile::tempdir().unwrap();
        // A port free when chosen may be taken by another test's server before the registry
        // binds it: the registry then exits, and another port is tried.
        for _ in 0..5 {
            match Registry::start_on(mode, folder, free_port()) {
                Ok(registry) => return Some(registry),
                Err(back) => folder = back,
            }
        }
        panic!(
            "the registry did not start:\n{}",
            std::fs::read_to_string(folder.path().join("registry.log")).unwrap_or_default()
        );
    }

    /// Starts a registry serving from `folder` on `port`; gives the folder back when the port
    /// could not be bound.
    fn start_on(
        mode: Mode,
        folder: tempfile::TempDir,
        port: u16,
    ) -> Result<Registry, tempfile::TempDir> {
        let dir = folder.path();
        let address = format!("127.0.0.1:{port}");
        // At the info level the registry says when it listens, or why it cannot.
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog: {{ disabled: true }}\nstorage:\n  \
             filesystem: {{ rootdirectory: {data} }}\n  \
             delete: {{ enabled: true }}\n  cache: {{ blobdescriptor: inmemory }}\n  \
             maintenance: {{ uploadpurging: {{ enabled: false }} }}\nhttp:\n  addr: {address}\n  \
             secret: local-test-secret\n",
            data = dir.join("data").display()
        );
        match mode {
            Mode::Plain => {}
            Mode::Auth => {
                let output = Command::new("htpasswd")
                    .args(["-Bbn", "user", "pass"])
                    .output()
                    .unwrap();
                std::fs::write(dir.join("htpasswd"), output.stdout).unwrap();
                config.push_str(&format!(
                    "auth:\n  htpasswd: {{ realm: test-registry, path: {} }}\n",
                    dir.join("htpasswd").display()
                ));
            }
            Mode::Tls | Mode::TlsCaAsServer => {
                if !dir.join("cert.pem").exists() {
                    make_certificate(dir, mode == Mode::TlsCaAsServer);
                }
                config.push_str(&format!(
                    "  tls: {{ certificate: {}, key: {} }}\n",
                    dir.join("cert.pem").display(),
                    dir.join("key.pem").display()
                ));
            }
        }
        std::fs::write(dir.join("config.yml"), config).unwrap();
        let log = std::fs::File::create(dir.join("registry.log")).unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        // Its own words, not a connection, tell that the port is its: another test's server
        // may be the one listening there.
        let listening = format!("listening on {address}");
        let log = dir.join("registry.log");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains(&listening) && TcpStream::connect(&address).is_ok() {
                return Ok(Registry {
                    child,
                    address,
                    folder,
                });
            }
            if child.try_wait().ok().flatten().is_some() {
                return Err(folder);
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "the registry did not start:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// The self-signed certificate of a TLS registry.
    pub fn certificate(&self) -> PathBuf {
        self.folder.path().join("cert.pem")
    }

    /// `docker://127.0.0.1:PORT/NAME`.
    pub fn url(&self, name: &str) -> String {
        format!("docker://{}/{name}", self.address)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn make_certificate(dir: &Path, as_ca: bool) {
    let mut command = Command::new("openssl");
    command
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "30",
        ])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ]);
    if !as_ca {
        // rustls refuses a CA certificate as a server's own (webpki's `CaUsedAsEndEntity`).
        command.args(["-addext", "basicConstraints=critical,CA:FALSE"]);
    }
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl could not make a certificate");
}

/// A Docker config folder whose `config.json` holds `user:pass` for `registry`.
pub fn docker_config_with_login(registry: &str) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    // "user:pass" in base64.
    let config = format!(r#"{{"auths":{{"{registry}":{{"auth":"dXNlcjpwYXNz"}}}}}}"#);
    std::fs::write(folder.path().join("config.json"), config).unwrap();
    folder
}

/// One request that went through the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `HEAD`, `POST`, `PATCH`, `PUT`.
    pub method: String,
    /// The path and query as sent.
    pub target: String,
    /// The response's status code.
    pub status: u16,
}

impl Request {
    /// The request's shape: `HEAD blob`, `POST upload`, `POST mount`, `PATCH upload`,
    /// `PUT upload`, `PUT manifest`, `GET manifest`, `GET blob`, `GET /v2/`.
    pub fn shape(&self) -> String {
        let target = &self.target;
        let kind = if target.contains("mount=") {
            "mount"
        } else if target.contains("/blobs/uploads/") {
            "upload"
        } else if target.contains("/blobs/") {
            "blob"
        } else if target.contains("/manifests/") {
            "manifest"
        } else {
            return format!("{} {target}", self.method);
        };
        format!("{} {kind}", self.method)
    }
}

/// A loopback HTTP/1.1 forwarder to a registry that records every request.
pub struct CountingProxy {
    /// `127.0.0.1:PORT` of the proxy.
    pub address: String,
    requests: Arc<Mutex<Vec<Request>>>,
    in_flight: Arc<Mutex<InFlight>>,
}

/// Per request shape, how many requests are being answered now and the most there were at
/// once.
#[derive(Default)]
struct InFlight {
    now: HashMap<String, usize>,
    most: HashMap<String, usize>,
}

impl CountingProxy {
    /// Forwards connections to `upstream` (`HOST:PORT`).
    pub fn start(upstream: &str) -> CountingProxy {
        CountingProxy::start_slow(upstream, Duration::ZERO)
    }

    /// Forwards connections to `upstream`, holding back the answer to every `GET blob` for
    /// `delay`, so that downloads made at the same time are seen overlapping.
    pub fn start_slow(upstream: &str, delay: Duration) -> CountingProxy {
        CountingProxy::start_with(upstream, delay, false)
    }

    /// Forwards connections to `upstream`, which is made to refuse every cross-repository
    /// mount: the proxy drops a mount's `mount` and `from` parameters, so the registry answers
    /// as a registry that cannot mount does, with 202 and an upload session.
    pub fn start_refusing_mounts(upstream: &str) -> CountingProxy {
        CountingProxy::start_with(upstream, Duration::ZERO, true)
    }

    fn start_with(upstream: &str, delay: Duration, refuse_mounts: bool) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(Mutex::new(InFlight::default()));
        let recorder = Recorder {
            requests: requests.clone(),
            in_flight: in_flight.clone(),
            delay,
            refuse_mounts,
        };
        let upstream = upstream.to_string();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let upstream = upstream.clone();
                let recorder = recorder.clone();
                thread::spawn(move || forward(client, &upstream, &recorder));
            }
        });
        CountingProxy {
            address,
            requests,
            in_flight,
        }
    }

    /// The most requests of this shape that were being answered at the same time since the
    /// proxy started (or was reset).
    pub fn most_at_once(&self, shape: &str) -> usize {
        let in_flight = self.in_flight.lock().unwrap();
        in_flight.most.get(shape).copied().unwrap_or(0)
    }

    /// `docker://127.0.0.1:PROXY/NAME`.
    pub fn url(&self, name: &str) -> String {
        format!("docker://{}/{name}", self.address)
    }

    /// Forgets the requests recorded so far.
    pub fn reset(&self) {
        self.requests.lock().unwrap().clear();
        self.in_flight.lock().unwrap().most.clear();
    }

    /// Every request recorded so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// How many recorded requests have this shape.
    pub fn count(&self, shape: &str) -> usize {
        self.requests()
            .iter()
            .filter(|request| request.shape() == shape)
            .count()
    }
}

/// Where a proxy's connections record their requests.
#[derive(Clone)]
struct Recorder {
    requests: Arc<Mutex<Vec<Request>>>,
    in_flight: Arc<Mutex<InFlight>>,
    delay: Duration,
    refuse_mounts: bool,
}

/// Copies requests from `client` to the registry and responses back, one at a time.
fn forward(client: TcpStream, upstream: &str, recorder: &Recorder) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let mut from_client = BufReader::new(client.try_clone().unwrap());
    // extkit first tries HTTPS on a loopback registry, as Docker does. A TLS hello has no line
    // ends to wait for, so answer it the way a plain-HTTP registry would: hang up at once.
    let speaks_http = from_client
        .fill_buf()
        .is_ok_and(|bytes| bytes.first().is_some_and(u8::is_ascii_uppercase));
    if !speaks_http {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let mut to_server = server.try_clone().unwrap();
    let mut from_server = BufReader::new(server);
    let mut to_client = client;
    let (methods, method_queue) = mpsc::channel::<(String, String)>();
    let (statuses, status_queue) = mpsc::channel::<u16>();
    let responses = thread::spawn(move || {
        while let Ok((method, _)) = method_queue.recv() {
            match copy_message(&mut from_server, &mut to_client, method != "HEAD") {
                Some(head) => {
                    let status = head
                        .split_whitespace()
                        .nth(1)
                        .and_then(|code| code.parse().ok())
                        .unwrap_or(0);
                    let _ = statuses.send(status);
                }
                None => break,
            }
        }
        let _ = to_client.shutdown(Shutdown::Both);
    });
    let refuse_mounts = recorder.refuse_mounts;
    let rewrite = move |first: &str| -> String {
        match first.split_once("?mount=") {
            Some((start, rest)) if refuse_mounts => {
                let version = rest.rsplit(' ').next().unwrap_or("HTTP/1.1");
                format!("{start} {version}")
            }
            _ => first.to_string(),
        }
    };
    while let Some(head) = copy_request(&mut from_client, &mut to_server, &rewrite) {
        let mut words = head.split_whitespace();
        let method = words.next().unwrap_or_default().to_string();
        let target = words.next().unwrap_or_default().to_string();
        let shape = Request {
            method: method.clone(),
            target: target.clone(),
            status: 0,
        }
        .shape();
        {
            let mut in_flight = recorder.in_flight.lock().unwrap();
            let now = in_flight.now.entry(shape.clone()).or_default();
            *now += 1;
            let now = *now;
            let most = in_flight.most.entry(shape.clone()).or_default();
            *most = (*most).max(now);
        }
        if shape == "GET blob" && !recorder.delay.is_zero() {
            thread::sleep(recorder.delay);
        }
        let sent = methods.send((method.clone(), target.clone())).is_ok();
        let status = if sent {
            status_queue.recv().unwrap_or(0)
        } else {
            0
        };
        if let Some(now) = recorder.in_flight.lock().unwrap().now.get_mut(&shape) {
            *now -= 1;
        }
        if !sent {
            break;
        }
        recorder.requests.lock().unwrap().push(Request {
            method,
            target,
            status,
        });
    }
    drop(methods);
    let _ = to_server.shutdown(Shutdown::Both);
    let _ = responses.join();
}

/// Copies one HTTP/1.1 request, its first line passed through `rewrite`, and gives the first
/// line as the client sent it.
fn copy_request(
    from: &mut BufReader<TcpStream>,
    to: &mut TcpStream,
    rewrite: &dyn Fn(&str) -> String,
) -> Option<String> {
    copy_message_with(from, to, true, rewrite)
}

/// Copies one HTTP/1.1 message (head, then a body by `Content-Length` or chunked encoding
/// when `with_body`) and gives its first line; `None` at the end of the connection.
fn copy_message(
    from: &mut BufReader<TcpStream>,
    to: &mut TcpStream,
    with_body: bool,
) -> Option<String> {
    copy_message_with(from, to, with_body, &|first: &str| first.to_string())
}

fn copy_message_with(
    from: &mut BufReader<TcpStream>,
    to: &mut TcpStream,
    with_body: bool,
    rewrite: &dyn Fn(&str) -> String,
) -> Option<String> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if from.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let end_of_first = head
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(0);
    let first_sent = rewrite(&String::from_utf8_lossy(&head[..end_of_first]));
    to.write_all(first_sent.as_bytes()).ok()?;
    to.write_all(&head[end_of_first..]).ok()?;
    let text = String::from_utf8_lossy(&head).to_string();
    let first = text.lines().next().unwrap_or_default().to_string();
    let header = |name: &str| {
        text.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    };
    let status = first.split_whitespace().nth(1).unwrap_or_default();
    let bodiless = status == "204" || status == "304" || status.starts_with('1');
    if !with_body || bodiless {
        return Some(first);
    }
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size_line = Vec::new();
            from.read_until(b'\n', &mut size_line).ok()?;
            to.write_all(&size_line).ok()?;
            let size_text = String::from_utf8_lossy(&size_line);
            let size = usize::from_str_radix(size_text.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            from.read_exact(&mut chunk).ok()?;
            to.write_all(&chunk).ok()?;
            if size == 0 {
                break;
            }
        }
    } else if let Some(length) = header("content-length").and_then(|v| v.parse::<u64>().ok()) {
        std::io::copy(&mut from.by_ref().take(length), to).ok()?;
    }
    to.flush().ok()?;
    Some(first)
}

/// Bytes that do not compress, the same on every run.
pub fn noise(length: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Writes a one-platform image whose only layer is an uncompressed tar holding `size` bytes
/// of noise, tagged `latest`; gives the layer's size as stored.
pub fn write_large_layout(path: &Path, size: usize) -> u64 {
    let mut layer = LayerBuilder::new(0);
    layer.add_file("big.bin", noise(size, 7), 0o644).unwrap();
    let layer = layer.build(Compression::None).unwrap();
    let stored = layer.bytes.len() as u64;
    let mut writer = ImageWriter::new();
    writer.add(PlatformImage {
        platform: Platform::new("linux", "amd64", None),
        config: serde_json::json!({ "Cmd": ["/bin/true"] }),
        created: Some("1970-01-01T00:00:00Z".into()),
        layers: vec![layer],
    });
    let destination = LayoutDestination::create(path, Some("latest".into())).unwrap();
    writer.write(Box::new(destination)).unwrap();
    stored
}
