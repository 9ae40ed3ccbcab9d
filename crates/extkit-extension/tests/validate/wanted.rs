use extkit_extension::{ReadKind, WantedFile, wanted_files};

use crate::support::*;

fn wanted(path: &str, read: ReadKind) -> WantedFile {
    WantedFile {
        path: path.to_string(),
        read,
    }
}

#[test]
fn every_named_file_is_wanted_once_normalised() {
    assert_eq!(
        wanted_files(METADATA.as_bytes()),
        [
            wanted("/darwin/hello", ReadKind::Binary),
            wanted("/docker-compose.yaml", ReadKind::Content),
            wanted("/docker.svg", ReadKind::Stat),
            wanted("/linux/hello", ReadKind::Binary),
            wanted("/ui", ReadKind::Stat),
            wanted("/ui/index.html", ReadKind::Stat),
            wanted("/windows/hello.exe", ReadKind::Binary),
        ]
    );
}

#[test]
fn relative_and_odd_paths_are_normalised() {
    let json = r#"{ "icon": "./assets//icon.svg",
        "ui": { "dashboard-tab": { "title": "T", "root": "ui/", "src": "/build/index.html" } },
        "host": { "binaries": [ { "linux": [ { "path": "/tools/../linux/a" } ],
                                  "darwin": [ { "path": "/linux/a" } ] } ] } }"#;
    assert_eq!(
        wanted_files(json.as_bytes()),
        [
            wanted("/assets/icon.svg", ReadKind::Stat),
            wanted("/linux/a", ReadKind::Binary),
            wanted("/ui", ReadKind::Stat),
            wanted("/ui/build/index.html", ReadKind::Stat),
        ]
    );
}

#[test]
fn a_path_read_two_ways_is_listed_for_each_but_never_also_stated() {
    let json = r#"{ "icon": "/tool", "vm": { "composefile": "/tool" },
        "host": { "binaries": [ { "linux": [ { "path": "/tool" } ] } ] } }"#;
    assert_eq!(
        wanted_files(json.as_bytes()),
        [
            wanted("/tool", ReadKind::Content),
            wanted("/tool", ReadKind::Binary)
        ]
    );
}

#[test]
fn invalid_json_wants_nothing_and_partial_metadata_wants_what_it_can() {
    assert_eq!(wanted_files(b"{ not json"), []);
    assert_eq!(wanted_files(b"[\"icon\"]"), []);
    // A schema problem elsewhere does not hide the icon.
    assert_eq!(
        wanted_files(br#"{ "icon": "docker.svg", "name": "old" }"#),
        [wanted("/docker.svg", ReadKind::Stat)]
    );
}
