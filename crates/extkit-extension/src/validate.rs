//! Running every rule and putting the findings in order.

use std::collections::BTreeSet;

use crate::catalogue::rule_position;
use crate::input::{ImageFacts, VariantFacts};
use crate::matrix::matrix;
use crate::report::{Finding, Options, Report, Severity};
use crate::rules;

/// Runs every rule on an image's facts, then works out the Desktop matrix.
///
/// A finding that holds alike for every platform's image (two or more) is reported once,
/// with `platform: None`.
pub fn validate(facts: &ImageFacts, options: &Options) -> Report {
    let mut findings = rules::index::check(facts, options);

    let variants = runnable_variants(facts);
    let per_variant: Vec<Vec<Finding>> = variants
        .iter()
        .map(|variant| check_variant(variant, options))
        .collect();
    findings.extend(merge_alike(&variants, per_variant));

    if variants.len() > 1 {
        let labels: Vec<(String, _)> = variants
            .iter()
            .map(|variant| (variant.platform.clone(), &variant.facts.labels))
            .collect();
        findings.extend(rules::labels::check_consistency(&labels));

        let metadata: Vec<(String, Option<&[u8]>)> = variants
            .iter()
            .map(|variant| {
                let content = variant
                    .facts
                    .metadata
                    .as_ref()
                    .and_then(|file| file.content.as_deref());
                (variant.platform.clone(), content)
            })
            .collect();
        findings.extend(rules::metadata::check_consistency(&metadata));
    }

    report(
        facts.reference.clone(),
        facts.digest.clone(),
        findings,
        matrix(facts),
    )
}

/// Checks a lone `metadata.json` with the rules that need nothing but its content.
///
/// The report's reference is `path` as given, its digest `None` and its matrix empty.
pub fn validate_metadata_file(path: &str, bytes: &[u8], _options: &Options) -> Report {
    let (_, findings) = rules::metadata::check_document(path, bytes);
    report(path.to_string(), None, findings, Vec::new())
}

/// One runnable entry with what was read from it.
struct Variant<'a> {
    /// Its platform as the index (or, for a lone manifest, the config) states it.
    platform: String,
    /// Its normalised architecture, such as `arm64`.
    architecture: String,
    /// What was read from it.
    facts: &'a VariantFacts,
}

fn runnable_variants(facts: &ImageFacts) -> Vec<Variant<'_>> {
    facts
        .runnable()
        .filter_map(|(platform, entry)| {
            let variant = entry.variant.as_ref()?;
            Some(Variant {
                platform: platform.to_string(),
                architecture: platform.normalize().architecture,
                facts: variant,
            })
        })
        .collect()
}

/// Every finding about one platform's image, before it is tagged with the platform.
fn check_variant(variant: &Variant<'_>, options: &Options) -> Vec<Finding> {
    let mut findings = rules::labels::check(&variant.facts.labels, options);
    let (metadata, metadata_findings) = rules::metadata::read(variant.facts.metadata.as_ref());
    findings.extend(metadata_findings);
    if let Some(metadata) = metadata {
        findings.extend(rules::files::check(&metadata, variant.facts));
        findings.extend(rules::binaries::check(
            &metadata,
            variant.facts,
            &variant.architecture,
        ));
    }
    findings
}

/// Tags each variant's findings with its platform, except that a finding every variant has
/// alike is kept once for the image as a whole.
fn merge_alike(variants: &[Variant<'_>], per_variant: Vec<Vec<Finding>>) -> Vec<Finding> {
    type Key = (
        &'static str,
        Severity,
        Option<String>,
        String,
        Option<String>,
    );
    let key = |finding: &Finding| -> Key {
        (
            finding.rule,
            finding.severity,
            finding.path.clone(),
            finding.message.clone(),
            finding.hint.clone(),
        )
    };
    let sets: Vec<BTreeSet<Key>> = per_variant
        .iter()
        .map(|findings| findings.iter().map(key).collect())
        .collect();
    let shared: BTreeSet<Key> = match sets.split_first() {
        Some((first, rest)) if !rest.is_empty() => first
            .iter()
            .filter(|key| rest.iter().all(|set| set.contains(*key)))
            .cloned()
            .collect(),
        _ => BTreeSet::new(),
    };

    let mut merged = Vec::new();
    let mut emitted: BTreeSet<Key> = BTreeSet::new();
    for (variant, findings) in variants.iter().zip(per_variant) {
        for finding in findings {
            let finding_key = key(&finding);
            if shared.contains(&finding_key) {
                if emitted.insert(finding_key) {
                    merged.push(finding);
                }
            } else {
                merged.push(finding.platform(variant.platform.clone()));
            }
        }
    }
    merged
}

/// Orders the findings and works out `ok`.
fn report(
    reference: String,
    digest: Option<String>,
    mut findings: Vec<Finding>,
    matrix: Vec<crate::report::MatrixRow>,
) -> Report {
    // Stable: findings of one rule, platform and path keep the order the rule gave them.
    findings.sort_by(|a, b| {
        (rule_position(a.rule), &a.platform, &a.path).cmp(&(
            rule_position(b.rule),
            &b.platform,
            &b.path,
        ))
    });
    let ok = !findings
        .iter()
        .any(|finding| finding.severity == Severity::Error);
    Report {
        reference,
        digest,
        ok,
        findings,
        matrix,
    }
}
