//! `docs/rules.md` is generated from the rule table; this test keeps the two equal.
//!
//! Run with `EXTKIT_BLESS=1` to rewrite the file after changing a rule.

use std::path::PathBuf;

#[test]
fn docs_rules_md_is_the_rule_table() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md");
    let wanted = extkit_extension::rules_markdown();
    if std::env::var_os("EXTKIT_BLESS").is_some() {
        std::fs::write(&path, &wanted).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == wanted,
        "docs/rules.md is stale: run `EXTKIT_BLESS=1 cargo test -p extkit-extension --test rules_doc`"
    );
}

#[test]
fn every_rule_is_a_row_of_the_document() {
    let text = extkit_extension::rules_markdown();
    for rule in extkit_extension::rules() {
        let row = format!("| `{}` | {} |", rule.id, rule.severity.as_str());
        assert!(text.contains(&row), "no row starts with {row}");
    }
}
