//! Extension images made with extkit's writer, for validate and install tests: a correct
//! two-platform extension with real host binaries, which each test then breaks in one way.

use std::collections::BTreeMap;
use std::path::Path;

use extkit_layer::{Compression, LayerBuilder};
use extkit_oci::transport::LayoutDestination;
use extkit_oci::{ImageWriter, Platform, PlatformImage};
use serde_json::{Value, json};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../extkit-binfmt/tests/fixtures/", $name)).as_slice()
    };
}

/// The real executables of the binfmt fixtures.
pub fn binary(name: &str) -> &'static [u8] {
    match name {
        "darwin-amd64" => fixture!("hello-darwin-amd64"),
        "darwin-arm64" => fixture!("hello-darwin-arm64"),
        "darwin-universal" => fixture!("hello-darwin-universal"),
        "linux-amd64" => fixture!("hello-linux-amd64"),
        "linux-arm64" => fixture!("hello-linux-arm64"),
        "windows-amd64" => fixture!("hello-windows-amd64.exe"),
        "windows-arm64" => fixture!("hello-windows-arm64.exe"),
        other => panic!("no fixture {other}"),
    }
}

/// One file of a variant: path, content, mode.
pub type File = (String, Vec<u8>, u32);

/// An extension image to write: labels, metadata.json, files shared by every variant, and
/// files per architecture.
pub struct Extension {
    pub labels: BTreeMap<String, String>,
    pub metadata: Value,
    pub shared: Vec<File>,
    pub per_architecture: BTreeMap<String, Vec<File>>,
    /// The index entries' platforms, as stored.
    pub platforms: Vec<Platform>,
}

/// Labels that pass every rule.
pub fn good_labels() -> BTreeMap<String, String> {
    [
        ("org.opencontainers.image.title", "Hello"),
        (
            "org.opencontainers.image.description",
            "A multi-arch extension.",
        ),
        ("org.opencontainers.image.vendor", "extkit"),
        ("com.docker.desktop.extension.api.version", ">= 0.3.3"),
        (
            "com.docker.desktop.extension.icon",
            "https://example.com/hello.svg",
        ),
        (
            "com.docker.extension.screenshots",
            r#"[{"alt": "The tab", "url": "https://example.com/s.png"}]"#,
        ),
        (
            "com.docker.extension.detailed-description",
            "Shows a greeting.",
        ),
        ("com.docker.extension.publisher-url", "https://example.com"),
        (
            "com.docker.extension.additional-urls",
            r#"[{"title": "Source", "url": "https://example.com/src"}]"#,
        ),
        ("com.docker.extension.changelog", "First release."),
        ("com.docker.extension.categories", "utility-tools"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl Extension {
    /// A correct extension: UI, icon, and a host binary per OS built for each CPU (the macOS
    /// one universal).
    pub fn good() -> Self {
        let mut per_architecture = BTreeMap::new();
        for architecture in ["amd64", "arm64"] {
            per_architecture.insert(
                architecture.to_string(),
                vec![
                    (
                        "darwin/hello".into(),
                        binary("darwin-universal").to_vec(),
                        0o755,
                    ),
                    (
                        "linux/hello".into(),
                        binary(&format!("linux-{architecture}")).to_vec(),
                        0o755,
                    ),
                    (
                        "windows/hello.exe".into(),
                        binary(&format!("windows-{architecture}")).to_vec(),
                        0o755,
                    ),
                ],
            );
        }
        Extension {
            labels: good_labels(),
            metadata: json!({
                "icon": "hello.svg",
                "ui": {"dashboard-tab": {"title": "Hello", "root": "/ui", "src": "index.html"}},
                "host": {"binaries": [{
                    "darwin": [{"path": "/darwin/hello"}],
                    "windows": [{"path": "/windows/hello.exe"}],
                    "linux": [{"path": "/linux/hello"}]
                }]}
            }),
            shared: vec![
                (
                    "hello.svg".into(),
                    b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
                    0o644,
                ),
                ("ui/index.html".into(), b"<p>hello</p>".to_vec(), 0o644),
            ],
            per_architecture,
            platforms: vec![Platform::linux_amd64(), Platform::linux_arm64()],
        }
    }

    /// Replaces the file at `path` in the variant for `architecture`.
    pub fn set_file(
        &mut self,
        architecture: &str,
        path: &str,
        content: &[u8],
        mode: u32,
    ) -> &mut Self {
        let files = self.per_architecture.get_mut(architecture).unwrap();
        files.retain(|(existing, _, _)| existing != path);
        files.push((path.to_string(), content.to_vec(), mode));
        self
    }

    /// Removes the file at `path` from the variant for `architecture`.
    pub fn remove_file(&mut self, architecture: &str, path: &str) -> &mut Self {
        self.per_architecture
            .get_mut(architecture)
            .unwrap()
            .retain(|(existing, _, _)| existing != path);
        self
    }

    /// Writes the image as an OCI layout at `folder`, tagged `tag`; gives its location.
    pub fn write(&self, folder: &Path, tag: &str) -> String {
        let mut shared = LayerBuilder::new(0);
        let metadata = serde_json::to_vec_pretty(&self.metadata).unwrap();
        shared.add_file("metadata.json", metadata, 0o644).unwrap();
        for (path, content, mode) in &self.shared {
            shared.add_file(path, content.clone(), *mode).unwrap();
        }
        let shared = shared.build(Compression::Gzip).unwrap();

        let mut writer = ImageWriter::new();
        for platform in &self.platforms {
            let architecture = platform.normalize().architecture;
            let mut own = LayerBuilder::new(0);
            for (path, content, mode) in self
                .per_architecture
                .get(&architecture)
                .into_iter()
                .flatten()
            {
                own.add_file(path, content.clone(), *mode).unwrap();
            }
            writer.add(PlatformImage {
                platform: platform.clone(),
                config: json!({ "Labels": self.labels, "Cmd": ["/bin/true"] }),
                created: Some("1970-01-01T00:00:00Z".into()),
                layers: vec![shared.clone(), own.build(Compression::Gzip).unwrap()],
            });
        }
        let destination = LayoutDestination::create(folder, Some(tag.to_string())).unwrap();
        writer.write(Box::new(destination)).unwrap();
        format!("oci:{}:{tag}", folder.display())
    }
}
