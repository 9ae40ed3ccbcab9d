//! `validate` on hand-made facts: a valid two-platform extension, broken one way at a time.

mod baseline;
mod binary_rules;
mod compose_rules;
mod file_rules;
mod host_rules;
mod hostile;
mod index_rules;
mod label_rules;
mod matrix;
mod metadata_file;
mod metadata_rules;
mod report_json;
mod support;
mod verdicts;
mod wanted;
