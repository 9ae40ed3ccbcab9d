use extkit_extension::Options;
use serde_json::json;

use crate::support::*;

#[test]
fn a_report_serialises_every_field_in_order() {
    let mut facts = valid_image();
    facts.entries.remove(3);
    facts.entries.remove(1);
    remove_label(&mut facts, "com.docker.extension.additional-urls");
    let report = extkit_extension::validate(&facts, &Options::default());
    let text = serde_json::to_string(&report).unwrap();
    assert!(text.starts_with(r#"{"reference":"oci:build:1.0.0","digest":"sha256:0000"#));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value["findings"],
        json!([
            {
                "rule": "platform-missing",
                "severity": "error",
                "platform": "linux/arm64",
                "path": null,
                "message": "the image has no `linux/arm64` variant, so Docker Desktop cannot install it on arm64 machines",
                "hint": "build with `--platform linux/amd64,linux/arm64`"
            },
            {
                "rule": "label-missing",
                "severity": "warning",
                "platform": "linux/amd64",
                "path": "com.docker.extension.additional-urls",
                "message": "the label `com.docker.extension.additional-urls` is not set",
                "hint": "link documentation, support or sources as `[{\"title\": \"Documentation\", \"url\": \"https://…\"}]`"
            }
        ])
    );
    assert_eq!(value["ok"], json!(false));
    assert_eq!(
        value["matrix"][0],
        json!({
            "host": "darwin/amd64",
            "platform": "linux/amd64",
            "binaries": [ { "name": "hello", "path": "/darwin/hello", "runs": "native" } ]
        })
    );
    assert_eq!(
        value["matrix"][1],
        json!({ "host": "darwin/arm64", "platform": null, "binaries": [] })
    );
}
