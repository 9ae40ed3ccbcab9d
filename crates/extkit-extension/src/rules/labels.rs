//! Rules about the image labels Desktop and the Marketplace read.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::catalogue::ids;
use crate::labels::{self as known, parse_api_version, parse_http_url, parse_version};
use crate::metadata::type_name;
use crate::report::{Finding, Options, Severity};
use crate::rules::marketplace_severity;

/// Every finding about one image's labels.
pub(crate) fn check(labels: &BTreeMap<String, String>, options: &Options) -> Vec<Finding> {
    let mut findings = Vec::new();

    for key in known::REQUIRED {
        match labels.get(*key) {
            None => findings.push(
                Finding::new(
                    ids::LABEL_MISSING,
                    Some(key),
                    format!("the required label `{key}` is missing"),
                )
                .hint(format!("add `LABEL {key}=\"…\"` to the Dockerfile")),
            ),
            Some(value) if value.trim().is_empty() => findings.push(
                Finding::new(
                    ids::LABEL_EMPTY,
                    Some(key),
                    format!("the required label `{key}` is empty"),
                )
                .hint(format!("give `{key}` a value in the Dockerfile")),
            ),
            Some(_) => {}
        }
    }

    check_categories(labels, options, &mut findings);

    if !labels.contains_key(known::ADDITIONAL_URLS) {
        findings.push(
            Finding::new(
                ids::LABEL_MISSING,
                Some(known::ADDITIONAL_URLS),
                format!("the label `{}` is not set", known::ADDITIONAL_URLS),
            )
            .severity(Severity::Warning)
            .hint(
                "link documentation, support or sources as \
                 `[{\"title\": \"Documentation\", \"url\": \"https://…\"}]`",
            ),
        );
    }

    for (key, value) in labels {
        let value_present = !value.trim().is_empty();
        match key.as_str() {
            known::TITLE if value.to_lowercase().contains("extension") => findings.push(
                Finding::new(
                    ids::LABEL_INVALID,
                    Some(key),
                    format!("the title `{value}` contains \"extension\""),
                )
                .severity(Severity::Warning)
                .hint("Desktop already lists it among extensions; leave the word out"),
            ),
            known::API_VERSION if value_present => check_api_version(value, options, &mut findings),
            known::ICON if value_present => check_icon(value, &mut findings),
            known::PUBLISHER_URL if value_present && parse_http_url(value).is_none() => {
                findings.push(
                    Finding::new(
                        ids::LABEL_INVALID,
                        Some(key),
                        format!("`{key}` is `{value}`, which is not an http(s) URL"),
                    )
                    .hint("set it to the publisher's web site, such as `https://example.org`"),
                );
            }
            known::SCREENSHOTS if value_present => check_screenshots(value, &mut findings),
            known::ADDITIONAL_URLS => check_additional_urls(value, &mut findings),
            known::ACCOUNT_INFO if value_present && value.trim() != "required" => findings.push(
                Finding::new(
                    ids::LABEL_INVALID,
                    Some(key),
                    format!("`{key}` is `{value}`; Desktop knows only `required` or empty"),
                )
                .severity(Severity::Warning)
                .hint("set it to `required` when the extension needs a Docker login, or remove it"),
            ),
            _ => {}
        }

        let in_namespace = known::EXTENSION_NAMESPACES
            .iter()
            .any(|namespace| key.starts_with(namespace));
        if in_namespace && !known::KNOWN_EXTENSION_LABELS.contains(&key.as_str()) {
            let hint = match known::closest_known_label(key) {
                Some(closest) => format!("did you mean `{closest}`?"),
                None => "remove it, or check its name against the extension labels".to_string(),
            };
            findings.push(
                Finding::new(
                    ids::LABEL_UNKNOWN,
                    Some(key),
                    format!("the label `{key}` is not one Docker Desktop reads"),
                )
                .hint(hint),
            );
        }

        if known::is_placeholder(value) {
            findings.push(
                Finding::new(
                    ids::LABEL_PLACEHOLDER,
                    Some(key),
                    format!("`{key}` still holds the placeholder `{}`", shorten(value)),
                )
                .hint("replace the `TODO` that `extkit init` wrote with the real value"),
            );
        }
    }

    findings
}

fn check_categories(
    labels: &BTreeMap<String, String>,
    options: &Options,
    findings: &mut Vec<Finding>,
) {
    let key = known::CATEGORIES;
    let allowed = known::ALLOWED_CATEGORIES
        .iter()
        .map(|category| format!("`{category}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(value) = labels.get(key) else {
        findings.push(
            Finding::new(
                ids::LABEL_MISSING,
                Some(key),
                format!("the label `{key}` is missing; the Marketplace requires it"),
            )
            .severity(marketplace_severity(options))
            .hint(format!(
                "set it to one or more of {allowed}, separated by commas"
            )),
        );
        return;
    };
    if value.trim().is_empty() {
        findings.push(
            Finding::new(
                ids::LABEL_EMPTY,
                Some(key),
                format!("the label `{key}` is empty; the Marketplace requires a category"),
            )
            .severity(marketplace_severity(options))
            .hint(format!(
                "set it to one or more of {allowed}, separated by commas"
            )),
        );
        return;
    }
    for category in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        if !known::ALLOWED_CATEGORIES.contains(&category) {
            findings.push(
                Finding::new(
                    ids::LABEL_INVALID,
                    Some(key),
                    format!("`{category}` is not a Marketplace category"),
                )
                .hint(format!("use one or more of {allowed}")),
            );
        }
    }
}

fn check_api_version(value: &str, options: &Options, findings: &mut Vec<Finding>) {
    let key = known::API_VERSION;
    let requirements = match parse_api_version(value) {
        Ok(requirements) => requirements,
        Err(error) => {
            findings.push(
                Finding::new(
                    ids::LABEL_INVALID,
                    Some(key),
                    format!(
                        "`{key}` is `{value}`, which is not a version or constraint (`{}` does \
                            not parse)",
                        error.part
                    ),
                )
                .hint("use a version such as `0.3.4` or a constraint such as `>= 0.3.0`"),
            );
            return;
        }
    };
    let Some(sdk) = &options.sdk_version else {
        return;
    };
    let Some(sdk_version) = parse_version(sdk) else {
        findings.push(Finding::new(
            ids::LABEL_INVALID,
            Some(key),
            format!(
                "cannot check `{key}` against the SDK version `{sdk}`: it is not a version \
                such as `0.3.4`"
            ),
        ));
        return;
    };
    if !requirements
        .iter()
        .any(|requirement| requirement.matches(&sdk_version))
    {
        findings.push(
            Finding::new(
                ids::LABEL_INVALID,
                Some(key),
                format!("`{key}` (`{value}`) is incompatible with the SDK version `{sdk_version}`"),
            )
            .hint(format!("change it to `>={sdk_version}`")),
        );
    }
}

fn check_icon(value: &str, findings: &mut Vec<Finding>) {
    let key = known::ICON;
    let Some(url) = parse_http_url(value) else {
        findings.push(
            Finding::new(
                ids::LABEL_INVALID,
                Some(key),
                format!("`{key}` is `{value}`, which is not an http(s) URL"),
            )
            .hint(
                "the label is a URL of an .svg or .png image; the icon file in the image is \
                `metadata.json`'s `icon`",
            ),
        );
        return;
    };
    let path = url.path.to_ascii_lowercase();
    if ![".svg", ".png", ".jpg", ".jpeg"]
        .iter()
        .any(|extension| path.ends_with(extension))
    {
        findings.push(
            Finding::new(
                ids::LABEL_INVALID,
                Some(key),
                format!("`{key}` is `{value}`, which does not end in .svg, .png or .jpg"),
            )
            .severity(Severity::Warning)
            .hint("point it at an .svg or .png image"),
        );
    }
}

fn check_screenshots(value: &str, findings: &mut Vec<Finding>) {
    let key = known::SCREENSHOTS;
    let hint = "write it as `[{\"alt\": \"…\", \"url\": \"https://…\"}]`";
    let Some(items) = json_array(key, value, hint, findings) else {
        return;
    };
    if items.is_empty() {
        findings.push(
            Finding::new(
                ids::LABEL_INVALID,
                Some(key),
                format!("`{key}` lists no screenshot"),
            )
            .severity(Severity::Warning)
            .hint("add at least one screenshot, ideally 2400×1600 pixels"),
        );
    }
    for (index, item) in items.iter().enumerate() {
        check_item(key, index, item, "alt", findings, hint);
    }
}

fn check_additional_urls(value: &str, findings: &mut Vec<Finding>) {
    let key = known::ADDITIONAL_URLS;
    let hint = "write it as `[{\"title\": \"…\", \"url\": \"https://…\"}]`";
    let Some(items) = json_array(key, value, hint, findings) else {
        return;
    };
    for (index, item) in items.iter().enumerate() {
        check_item(key, index, item, "title", findings, hint);
    }
}

/// A JSON label's items, or a finding saying why it is not a JSON array.
fn json_array(
    key: &str,
    value: &str,
    hint: &str,
    findings: &mut Vec<Finding>,
) -> Option<Vec<Value>> {
    let problem = match serde_json::from_str::<Value>(value) {
        Ok(Value::Array(items)) => return Some(items),
        Ok(other) => format!("`{key}` holds {}, not a JSON array", type_name(&other)),
        Err(error) => format!("`{key}` is not valid JSON: {error}"),
    };
    findings.push(Finding::new(ids::LABEL_INVALID, Some(key), problem).hint(hint));
    None
}

/// One `{text_key, url}` item of a JSON label; items are counted from 1 in messages.
fn check_item(
    key: &str,
    index: usize,
    item: &Value,
    text_key: &str,
    findings: &mut Vec<Finding>,
    hint: &str,
) {
    let number = index + 1;
    let Value::Object(item) = item else {
        findings.push(
            Finding::new(
                ids::LABEL_INVALID,
                Some(key),
                format!(
                    "`{key}` item {number} is {}, not an object",
                    type_name(item)
                ),
            )
            .hint(hint),
        );
        return;
    };
    let text_ok = item
        .get(text_key)
        .and_then(Value::as_str)
        .is_some_and(|text| !text.trim().is_empty());
    if !text_ok {
        findings.push(
            Finding::new(
                ids::LABEL_INVALID,
                Some(key),
                format!("`{key}` item {number} has no `{text_key}`"),
            )
            .hint(hint),
        );
    }
    match item.get("url").and_then(Value::as_str) {
        Some(url) if parse_http_url(url).is_some() => {}
        Some(url) => findings.push(
            Finding::new(
                ids::LABEL_INVALID,
                Some(key),
                format!("`{key}` item {number} has the `url` `{url}`, which is not an http(s) URL"),
            )
            .hint(hint),
        ),
        None => findings.push(
            Finding::new(
                ids::LABEL_INVALID,
                Some(key),
                format!("`{key}` item {number} has no `url`"),
            )
            .hint(hint),
        ),
    }
}

/// A long value cut to fit in a message.
fn shorten(value: &str) -> String {
    const LIMIT: usize = 60;
    let value = value.trim();
    if value.chars().count() <= LIMIT {
        return value.to_string();
    }
    let cut: String = value.chars().take(LIMIT).collect();
    format!("{cut}…")
}

/// One finding per label whose value is not the same in every platform's image.
pub(crate) fn check_consistency(variants: &[(String, &BTreeMap<String, String>)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some((first_platform, first)) = variants.first() else {
        return findings;
    };
    let keys: BTreeSet<&String> = variants
        .iter()
        .flat_map(|(_, labels)| labels.keys())
        .collect();
    for key in keys {
        let expected = first.get(key);
        let Some((other_platform, other)) = variants[1..]
            .iter()
            .find(|(_, labels)| labels.get(key) != expected)
        else {
            continue;
        };
        let describe = |platform: &str, value: Option<&String>| match value {
            Some(value) => format!("`{platform}` has `{}`", shorten(value)),
            None => format!("`{platform}` does not have it"),
        };
        findings.push(
            Finding::new(
                ids::LABELS_DIFFER,
                Some(key),
                format!(
                    "the label `{key}` differs between platforms: {}, {}",
                    describe(first_platform, expected),
                    describe(other_platform, other.get(key))
                ),
            )
            .hint("set labels in the final stage of the Dockerfile, the same for every platform"),
        );
    }
    findings
}
