//! Hostile input never panics: arbitrary bytes and arbitrary JSON as metadata.json, arbitrary
//! label values, arbitrary compose files. Every finding names a rule of the catalogue.

use std::collections::BTreeSet;

use extkit_extension::{FileFacts, Options, Report, rules, validate, validate_metadata_file};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::*;

/// Keys metadata.json knows, and a few near misses, so that generated documents reach deep.
const KEYS: &[&str] = &[
    "icon",
    "ui",
    "dashboard-tab",
    "title",
    "root",
    "src",
    "backend",
    "socket",
    "vm",
    "image",
    "composefile",
    "exposes",
    "host",
    "binaries",
    "darwin",
    "windows",
    "linux",
    "path",
    "name",
    "",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "(/|\\.\\./|[a-z]|\\\\|\\$\\{DESKTOP_PLUGIN_IMAGE\\}){0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(key, value)| (key.to_string(), value))
                        .collect(),
                )
            }),
        ]
    })
}

fn assert_findings_are_known(report: &Report) {
    let known: BTreeSet<&str> = rules().iter().map(|rule| rule.id).collect();
    for finding in &report.findings {
        assert!(known.contains(finding.rule), "{finding:?}");
    }
    let has_error = report
        .findings
        .iter()
        .any(|finding| finding.severity == extkit_extension::Severity::Error);
    assert_eq!(report.ok, !has_error);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_as_metadata_json(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let report = validate_metadata_file("metadata.json", &bytes, &Options::default());
        assert_findings_are_known(&report);
    }

    #[test]
    fn arbitrary_json_as_metadata_json(document in json_value()) {
        let bytes = serde_json::to_vec(&document).unwrap();
        let report = validate_metadata_file("metadata.json", &bytes, &Options::default());
        assert_findings_are_known(&report);
    }

    #[test]
    fn arbitrary_json_as_an_image_metadata_json(document in json_value()) {
        let mut image = valid_image();
        let bytes = serde_json::to_vec(&document).unwrap();
        for entry in &mut image.entries {
            if let Some(variant) = &mut entry.variant {
                variant.metadata = Some(FileFacts {
                    content: Some(bytes.clone()),
                    size: bytes.len() as u64,
                    ..plain_file()
                });
            }
        }
        assert_findings_are_known(&validate(&image, &Options::default()));
    }

    #[test]
    fn arbitrary_label_values(
        index in 0..labels().len(),
        value in "(\\[|\\]|\\{|\\}|\"|:|,|https?://|TODO:|>=|<|[a-z0-9. ]){0,24}",
        marketplace in any::<bool>(),
        sdk_version in proptest::option::of("[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}"),
    ) {
        let mut image = valid_image();
        let key = labels().keys().nth(index).unwrap().clone();
        for entry in &mut image.entries {
            if let Some(variant) = &mut entry.variant {
                variant.labels.insert(key.clone(), value.clone());
            }
        }
        let options = Options { marketplace, sdk_version };
        assert_findings_are_known(&validate(&image, &options));
    }

    #[test]
    fn arbitrary_compose_files(text in "(services:|\n|  |- |[a-z]{1,3}|: |&a|\\*a|\\[|\\]|\\{|\\}|\"|'|#){0,48}") {
        let mut image = valid_image();
        for entry in &mut image.entries {
            if let Some(variant) = &mut entry.variant {
                variant.files.insert("/docker-compose.yaml".to_string(), text_file(&text));
            }
        }
        assert_findings_are_known(&validate(&image, &Options::default()));
    }
}
