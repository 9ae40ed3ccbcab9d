//! The bundled example layout is exactly what extkit's writer makes from the files below.
//!
//! Run with `EXTKIT_BLESS=1` to rewrite `examples/hello-layout` after changing them.

mod common;

use extkit_layer::{Compression, LayerBuilder};
use extkit_oci::transport::{LayoutDestination, Location, open_source};
use extkit_oci::{ImageWriter, Platform, PlatformImage};
use serde_json::json;

const METADATA: &str = r#"{
  "icon": "hello.svg",
  "ui": { "dashboard-tab": { "title": "Hello", "root": "/ui", "src": "index.html" } },
  "host": { "binaries": [ {
    "darwin": [ { "path": "/darwin/hello" } ],
    "windows": [ { "path": "/windows/hello.cmd" } ],
    "linux": [ { "path": "/linux/hello" } ]
  } ] }
}
"#;

const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#1d63ed"/></svg>
"##;

const UI: &str =
    "<!doctype html>\n<title>Hello</title>\n<p>Hello from a multi-arch extension.</p>\n";

fn labels() -> serde_json::Value {
    json!({
        "org.opencontainers.image.title": "Hello",
        "org.opencontainers.image.description": "A minimal multi-arch Docker Desktop extension.",
        "org.opencontainers.image.vendor": "extkit",
        "com.docker.desktop.extension.api.version": ">= 0.3.3",
        "com.docker.desktop.extension.icon": "https://example.com/hello.svg",
        "com.docker.extension.screenshots": "[{\"alt\": \"The Hello tab\", \"url\": \"https://example.com/hello.png\"}]",
        "com.docker.extension.detailed-description": "Shows a greeting and ships a host binary for every OS.",
        "com.docker.extension.publisher-url": "https://example.com",
        "com.docker.extension.additional-urls": "[{\"title\": \"Source\", \"url\": \"https://example.com/src\"}]",
        "com.docker.extension.changelog": "First release.",
        "com.docker.extension.categories": "utility-tools"
    })
}

fn write_example(path: &std::path::Path) -> extkit_oci::RawManifest {
    let mut shared = LayerBuilder::new(0);
    shared
        .add_file("metadata.json", METADATA.into(), 0o644)
        .unwrap()
        .add_file("hello.svg", ICON.into(), 0o644)
        .unwrap()
        .add_file("ui/index.html", UI.into(), 0o644)
        .unwrap();
    let shared = shared.build(Compression::Gzip).unwrap();

    let mut writer = ImageWriter::new();
    for architecture in ["amd64", "arm64"] {
        // Stand-ins for host binaries: the same paths in both variants, with per-CPU content.
        let script = format!("#!/bin/sh\necho 'hello from {architecture}'\n");
        let mut host = LayerBuilder::new(0);
        host.add_file("darwin/hello", script.clone().into(), 0o755)
            .unwrap()
            .add_file("linux/hello", script.into(), 0o755)
            .unwrap()
            .add_file(
                "windows/hello.cmd",
                format!("@echo hello from {architecture}\r\n").into(),
                0o755,
            )
            .unwrap();
        writer.add(PlatformImage {
            platform: Platform::new("linux", architecture, None),
            config: json!({ "Labels": labels(), "Cmd": ["/bin/true"] }),
            created: Some("1970-01-01T00:00:00Z".into()),
            layers: vec![shared.clone(), host.build(Compression::Gzip).unwrap()],
        });
    }
    let destination = LayoutDestination::create(path, Some("latest".into())).unwrap();
    writer.write(Box::new(destination)).unwrap()
}

#[test]
fn the_example_layout_is_what_the_writer_makes() {
    let scratch = tempfile::tempdir().unwrap();
    let fresh = write_example(&scratch.path().join("layout"));

    let committed = common::example_layout();
    if std::env::var_os("EXTKIT_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        write_example(&committed);
    }
    let location = Location::Oci {
        path: committed,
        tag: Some("latest".into()),
    };
    let root = open_source(&location).unwrap().root().unwrap();
    assert_eq!(
        root.digest, fresh.digest,
        "examples/hello-layout is stale: run `EXTKIT_BLESS=1 cargo test --test example_layout`"
    );
}

#[test]
fn the_writer_is_reproducible_whatever_the_folder() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let a = write_example(&first.path().join("a"));
    let b = write_example(&second.path().join("deeper/b"));
    assert_eq!(a, b);
}
