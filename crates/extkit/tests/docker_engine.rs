//! Optional: the variant a Docker engine pulls for a platform is the one extkit picks.
//!
//! Skipped, with a message, when no Docker engine answers (CI runs none, and this test is never
//! required there): it needs `docker info` to succeed. The engine pulls from a loopback CNCF
//! registry, which Docker trusts over plain HTTP by default.

mod common;

use std::process::Command;

use common::extkit;
use common::registry::{Mode, Registry};
use extkit_layer::{Compression, LayerBuilder};
use extkit_oci::transport::LayoutDestination;
use extkit_oci::{ImageWriter, Platform, PlatformImage};
use serde_json::json;

/// The index entries, in order: each config carries a label naming its entry. Two entries are
/// for `linux/amd64`, so the first must win the tie; the arm entries need variant matching.
const ENTRIES: [(&str, &str, Option<&str>); 5] = [
    ("first-amd64", "amd64", None),
    ("second-amd64", "amd64", None),
    ("arm64-v8", "arm64", Some("v8")),
    ("arm-v6", "arm", Some("v6")),
    ("arm-v7", "arm", Some("v7")),
];

/// The platforms asked for, each of both extkit and the engine.
const WANTED: [&str; 5] = [
    "linux/amd64",
    "linux/arm64",
    "linux/arm64/v8",
    "linux/arm/v7",
    "linux/arm/v6",
];

#[allow(clippy::print_stderr)] // the skip message is for the person running the tests
fn docker_engine_runs() -> bool {
    let answered = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !answered {
        eprintln!("skipped: no Docker engine is running (this optional test needs `docker info`)");
    }
    answered
}

fn write_index(path: &std::path::Path) {
    let mut writer = ImageWriter::new();
    for (entry, architecture, variant) in ENTRIES {
        let mut layer = LayerBuilder::new(0);
        layer
            .add_file("entry", entry.as_bytes().to_vec(), 0o644)
            .unwrap();
        writer.add(PlatformImage {
            platform: Platform::new("linux", architecture, variant),
            config: json!({ "Labels": { "test.entry": entry }, "Cmd": ["/entry"] }),
            created: Some("1970-01-01T00:00:00Z".into()),
            layers: vec![layer.build(Compression::Gzip).unwrap()],
        });
    }
    let destination = LayoutDestination::create(path, Some("latest".into())).unwrap();
    writer.write(Box::new(destination)).unwrap();
}

/// The entry label of the config extkit picks for `platform`.
fn extkit_pick(image: &str, platform: &str) -> String {
    let output = extkit()
        .args(["inspect", "--format", "json", "--platform", platform, image])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    document["image"]["config"]["Labels"]["test.entry"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The entry label of the image the engine pulls for `platform`.
fn docker_pick(image: &str, platform: &str) -> String {
    let _ = Command::new("docker").args(["rmi", "-f", image]).output();
    let pulled = Command::new("docker")
        .args(["pull", "-q", "--platform", platform, image])
        .output()
        .unwrap();
    assert!(pulled.status.success(), "{pulled:?}");
    let labels = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{index .Config.Labels \"test.entry\"}}",
            image,
        ])
        .output()
        .unwrap();
    assert!(labels.status.success(), "{labels:?}");
    String::from_utf8(labels.stdout).unwrap().trim().to_string()
}

#[test]
fn docker_pull_picks_the_variant_extkit_picks() {
    if !docker_engine_runs() {
        return;
    }
    let Some(registry) = Registry::start(Mode::Plain) else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let layout = scratch.path().join("layout");
    write_index(&layout);
    let pushed = extkit()
        .args([
            "copy",
            &format!("oci:{}:latest", layout.display()),
            &registry.url("variants:latest"),
        ])
        .output()
        .unwrap();
    assert!(pushed.status.success(), "{pushed:?}");

    let image = format!("{}/variants:latest", registry.address);
    for platform in WANTED {
        assert_eq!(
            docker_pick(&image, platform),
            extkit_pick(&registry.url("variants:latest"), platform),
            "the engine and extkit disagree on {platform}"
        );
    }
    let _ = Command::new("docker").args(["rmi", "-f", &image]).output();
}
